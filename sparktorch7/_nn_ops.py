"""NumPy kernels behind the nn modules (linear layers, convolution, pooling, normalisation).

The Lua modules in ``lua/nn/`` check their arguments, size ``self.output`` the way
Torch7 does and then call one function here through
``nn.kernels.<name>(out, input, ...)`` (``lua/nn/kernels.lua`` binds each kernel it
lists once, when nn is required). Tensors arrive as
ndarray views of the Lua memory, so every kernel writes its result into ``out`` (never
returns a new array) and leaves the inputs untouched. Inputs may be non-contiguous.

Layouts are Torch7's: images are ``(N, C, H, W)`` or ``(C, H, W)``, volumes
``(N, C, T, H, W)`` or ``(C, T, H, W)``; a kernel given the non-batch form works on it as a
batch of one. Convolution is im2col into a reused buffer (for 2-D a C loop in
``_kernels.pxi``, else an ``as_strided`` window view copied) followed by ``matmul``s
per sample, band of rows or chunk of samples; 2-D max pooling and batch normalization
in evaluation mode are C loops too, the rest whole-array ufuncs. 2-D convolution,
max pooling and batch normalization split a batch over as many threads as the BLAS
has (``_split_batch``).
"""
from __future__ import annotations

import ctypes
import itertools
import math
import os
import threading
import time

import numpy as np
from numpy.lib.stride_tricks import as_strided

from sparktorch7 import _blas
from sparktorch7._lua import (im2col2d as _c_im2col2d, max_pool2d_planes as _c_max_pool2d,
                              channel_affine as _c_channel_affine)

# Elements of the im2col buffer per chunk of the batch (8 Mi: 32 MiB in float32): the
# GEMMs are big enough for BLAS threads to run at full speed, and the peak memory
# stays bounded whatever the batch size.
_COLS_BUDGET = 1 << 23


def _span(shape, strides):
    """(lowest, highest) byte offset of the elements of a view, from its first element."""
    lo = hi = 0
    for n, st in zip(shape, strides):
        if st < 0:
            lo += (n - 1) * st
        else:
            hi += (n - 1) * st
    return lo, hi


def _window(x, shape, strides):
    """``as_strided(x, shape, strides)``, read-only, after checking that every element of
    the window view lies in the memory x itself spans: sizes and steps computed from module
    fields (a forged or corrupt file) that disagree with the input must be an error, never a
    read outside the input (the rule the numpy bridge applies to tensors)."""
    shape, strides = tuple(shape), tuple(strides)
    for v in shape + strides:
        if int(v) != v:
            raise ValueError(f"window view of shape {shape} and strides {strides}: not integers")
    shape = tuple(int(v) for v in shape)
    strides = tuple(int(v) for v in strides)
    if min(shape, default=0) < 0:
        raise ValueError(f"window view of negative shape {shape}")
    if 0 not in shape:
        lo, hi = _span(shape, strides)
        xlo, xhi = _span(x.shape, x.strides) if x.size else (0, -1)
        if x.size == 0 or lo < xlo or hi > xhi:
            raise ValueError(f"a window view of shape {shape} and strides {strides} reaches outside its input "
                             f"of shape {x.shape} (do the module's sizes match its input?)")
    return as_strided(x, shape, strides, writeable=False)


def _opt(v):
    """An optional tensor argument: Lua nil/false arrive as None/False."""
    return None if v is None or v is False else v


def _batched(x, out, nd):
    """Add the batch axis to a non-batch input/output pair (views, no copy)."""
    if x.ndim == nd + 1:
        return x[None], out[None]
    return x, out


def _pad(x, pads, value):
    """Pad the trailing len(pads) axes of x with ``value``; pads are (before, after)
    pairs, which may be negative (crop). Returns x itself when nothing changes."""
    lead = x.ndim - len(pads)
    if all(a == 0 and b == 0 for a, b in pads):
        return x
    crop = [slice(None)] * lead
    grow = [(0, 0)] * lead
    for size, (a, b) in zip(x.shape[lead:], pads):
        crop.append(slice(max(0, -a), size - max(0, -b)))
        grow.append((max(0, a), max(0, b)))
    x = x[tuple(crop)]
    shape = tuple(s + a + b for s, (a, b) in zip(x.shape, grow))
    res = np.full(shape, value, dtype=x.dtype)
    res[tuple(slice(a, a + s) for s, (a, _) in zip(x.shape, grow))] = x
    return res


def _offset_slices(k, stride, dil, osize):
    """Per kernel offset, the slices of a (padded) input that line up with the output."""
    for idx in itertools.product(*(range(n) for n in k)):
        yield tuple(slice(i * d, i * d + (o - 1) * s + 1, s)
                    for i, d, s, o in zip(idx, dil, stride, osize))


# ----------------------------------------------------------------------------
# linear layers
# ----------------------------------------------------------------------------

def linear(out, x, weight, bias=None):
    """nn.Linear: out := x W' + b for a batch x (N, in), out (N, out), or W x + b for a
    vector x. Torch7's order of operations: the product (BLAS, beta = 0), then the bias
    added to every row (its ``addr(1, ones, bias)``). Product and bias in one call, both
    written straight into out, in out's precision.

    Threads: in a process that runs split kernels (the convolutions, _split_batch) the
    product is split over threads as they are, each part on one BLAS thread: OpenBLAS's own
    threads, once woken, spin for a while after each call and take a core from the next
    convolution's threads (VGG b32 on 2 quiet cores: 0.80 of PyTorch split, 0.46 not).
    Elsewhere (an MLP) a big product runs on the BLAS's own threads, which beats two half
    products side by side (MLP 784-512-512-10 at batch 1024: 0.86 against 0.73), and a
    small one on one BLAS thread."""
    bias = _opt(bias)
    work = out.size * x.shape[-1] // _MACS_PER_ELEMENT
    if _split_recently():
        if x.ndim == 1:   # the output features split over the threads
            def part(o0, o1):
                _linear(out[o0:o1], x, weight[o0:o1], None if bias is None else bias[o0:o1])
        else:             # the rows
            def part(r0, r1):
                _linear(out[r0:r1], x[r0:r1], weight, bias)
        _split_batch(out.shape[0], part, work, mark=False)
    elif work < _SPLIT_MIN and (_blas.get_threads() or 1) > 1:
        with _blas.single_threaded():
            _linear(out, x, weight, bias)
    else:
        _linear(out, x, weight, bias)


def _linear(out, x, weight, bias):
    if x.ndim == 1:
        np.matmul(weight, x, out=out)
    else:
        np.matmul(x, weight.T, out=out)  # W' is a view: BLAS reads W transposed
    if bias is not None:
        np.add(out, bias, out=out)


# ----------------------------------------------------------------------------
# activations
# ----------------------------------------------------------------------------

# numpy's fmax against a scalar runs an element at a time; against an array it is
# vectorised (2-3x faster). So a contiguous input is cut into rows of _FILL_LEN, each
# met with one cached row of the threshold; the few elements left over take np.where.
_FILL_LEN = 4096
_fills: dict = {}


def _fill_row(dtype, value):
    key = (dtype.str, float(value), math.copysign(1.0, value))
    row = _fills.get(key)
    if row is None:
        if len(_fills) > 64:
            _fills.clear()
        row = _fills[key] = np.full(_FILL_LEN, value, dtype=dtype)
        row.flags.writeable = False
    return row


def _threshold_where(out, x, th):
    np.copyto(out, np.where(x > th, x, out.dtype.type(th)))


def _threshold_rows(out, x, th):
    n = x.size
    head = n - n % _FILL_LEN
    xf, of = x.reshape(-1), out.reshape(-1)
    if head:
        np.fmax(xf[:head].reshape(-1, _FILL_LEN), _fill_row(out.dtype, th),
                out=of[:head].reshape(-1, _FILL_LEN))
    if head < n:
        _threshold_where(of[head:], xf[head:], th)


def _rows_match_torch7():
    """fmax(x, th) is Torch7's x > th ? x : th but for the tie of two zeros (and NaN),
    where IEEE lets it return either operand. Does numpy's vectorised loop return th
    there, at every alignment? Checked once, at import."""
    base = [np.nan, -np.nan, -0.0, 0.0, -1.0, 2.0, -np.inf, np.inf, 0.5, 3.0, -0.0]
    for dtype in (np.float32, np.float64):
        for th in (0.0, -0.0, 0.5):
            for skip in range(4):
                x = np.resize(np.array(base, dtype), 2 * _FILL_LEN + 7 + skip)[skip:]
                out = np.empty(x.size + skip, dtype)[skip:]
                _threshold_rows(out, x, th)
                want = np.where(x > th, x, dtype(th))
                if not (np.array_equal(out, want) and np.array_equal(np.signbit(out), np.signbit(want))):
                    return False
    return True


_ROWS_OK = _rows_match_torch7()


def threshold_max(out, x, th):
    """nn.Threshold with val == threshold (ReLU and its kin): out := x if x > th else th
    as Torch7 computes it, so NaN gives th, and so does a zero meeting a zero threshold
    (its sign included). out may be x itself (in place)."""
    if _ROWS_OK and x.flags.c_contiguous and out.flags.c_contiguous:
        if x.size >= _SPLIT_MIN * 4 and x.size % _FILL_LEN == 0:
            # big activations: whole rows of _FILL_LEN per thread
            xr, orows = x.reshape(-1, _FILL_LEN), out.reshape(-1, _FILL_LEN)
            _split_batch(xr.shape[0], lambda r0, r1: _threshold_rows(orows[r0:r1], xr[r0:r1], th),
                         x.size)
        else:
            _threshold_rows(out, x, th)
    else:
        _threshold_where(out, x, th)


# ----------------------------------------------------------------------------
# convolution
# ----------------------------------------------------------------------------

# Scratch buffers of the convolutions (im2col columns, GEMM results, padded inputs),
# kept per thread and per dtype and grown on demand, so that a forward pass reuses the
# memory of the previous one (as a Torch7 module reuses its finput/fgradInput) instead
# of mapping and faulting in tens of MiB per call. Threads never share one.
_scratch_local = threading.local()

# GEMM orientation of _conv_block (see there): transposed when columns >= ratio * planes
_GEMM_T = True
_GEMM_T_RATIO = 4


def threshold_grad(gin, gout, x, th):
    """Threshold/ReLU's gradInput: gout where x > th, else 0 (gin may be gout itself)."""
    np.multiply(gout, np.greater(x, th), out=gin, casting="unsafe")


def _scratch(name, size, dtype):
    """A 1-D buffer of at least size elements of dtype, this thread's, reused."""
    pool = getattr(_scratch_local, "pool", None)
    if pool is None:
        pool = _scratch_local.pool = {}
    key = (name, np.dtype(dtype).str)
    buf = pool.get(key)
    if buf is None or buf.size < size:
        buf = pool[key] = np.empty(max(size, 1), dtype=dtype)
    return buf[:size]


def _pad_into(x, pads, name):
    """x zero-padded on its trailing len(pads) axes (symmetric, non-negative pads), in a
    reused scratch buffer: borders zeroed, interior copied. Returns x when no padding."""
    if not any(pads):
        return x
    lead = x.ndim - len(pads)
    shape = x.shape[:lead] + tuple(s + 2 * p for s, p in zip(x.shape[lead:], pads))
    xp = _scratch(name, math.prod(shape), x.dtype).reshape(shape)
    full = [slice(None)] * x.ndim
    for a, p in enumerate(pads):
        if p:
            ax = lead + a
            lo, hi = list(full), list(full)
            lo[ax], hi[ax] = slice(0, p), slice(shape[ax] - p, None)
            xp[tuple(lo)] = 0
            xp[tuple(hi)] = 0
    xp[tuple(full[:lead] + [slice(p, p + s) for s, p in zip(x.shape[lead:], pads)])] = x
    return xp


def _conv_block(dst, xp, w, bias, ksize, stride, dil, g):
    """dst (m, O, *osize) = convolution of the padded block xp (m, C, *spatial) with w
    (g, O/g, C/g * k): window view copied into a scratch cols (C, *ksize, m, *osize),
    one GEMM per group. A block of one sample written contiguously takes the GEMM
    straight into dst (bias added in place); otherwise the GEMMs go to a scratch
    (O, m*L) and one pass transposes it into dst and adds the bias."""
    nd = len(ksize)
    m, c = xp.shape[:2]
    o = dst.shape[1]
    osize = tuple(dst.shape[2:])
    lsp = math.prod(osize)
    kg = w.shape[2]
    og = w.shape[1]
    dt = dst.dtype
    st = xp.strides
    shape = (c,) + tuple(ksize) + (m,) + osize
    view = _window(
        xp, shape,
        (st[1],) + tuple(st[2 + i] * dil[i] for i in range(nd)) + (st[0],)
        + tuple(st[2 + i] * stride[i] for i in range(nd)))
    cm = _scratch("cols", math.prod(shape), dt).reshape(shape)
    np.copyto(cm, view)
    cm2 = cm.reshape(-1, m * lsp)
    if g == 1 and _GEMM_T and m * lsp >= _GEMM_T_RATIO * o:
        # many more columns than output planes: OpenBLAS runs cols' @ W' faster than
        # W @ cols (measured ~1.2-1.5x on ResNet/VGG shapes; slower when N < O)
        rt = _scratch("res", o * m * lsp, dt).reshape((m,) + osize + (o,))
        np.matmul(cm2.T, w[0].T, out=rt.reshape(m * lsp, o))
        src = np.moveaxis(rt, -1, 1)
        if bias is None:
            dst[...] = src
        else:
            np.add(src, bias, out=dst)
        return
    direct = m == 1 and dst.flags.c_contiguous
    rm = dst.reshape(o, lsp) if direct else _scratch("res", o * m * lsp, dt).reshape(o, m * lsp)
    for gi in range(g):
        np.matmul(w[gi], cm2[gi * kg:(gi + 1) * kg], out=rm[gi * og:(gi + 1) * og])
    if direct:
        if bias is not None:
            np.add(dst, bias, out=dst)
        return
    src = rm.reshape((o, m) + osize).swapaxes(0, 1)
    if bias is None:
        dst[...] = src
    else:
        np.add(src, bias, out=dst)


def _conv_pointwise(out, x, w, bias, stride, g):
    """A 1x1 convolution without padding: no im2col, the (strided) input planes are the
    GEMM's right-hand side as they lie, one GEMM per sample and group straight into
    out (n, O, *osize), which must be C-contiguous."""
    nd = x.ndim - 2
    if any(s != 1 for s in stride):
        x = x[(slice(None), slice(None)) + tuple(slice(None, None, s) for s in stride)]
    n, c = x.shape[:2]
    o = out.shape[1]
    lsp = math.prod(out.shape[2:])
    if not x.flags.c_contiguous:
        xs = _scratch("cols", x.size, out.dtype).reshape(x.shape)
        np.copyto(xs, x)
        x = xs
    xm = x.reshape(n, c, lsp)
    om = out.reshape(n, o, lsp)
    cg, og = c // g, o // g
    for gi in range(g):
        np.matmul(w[gi], xm[:, gi * cg:(gi + 1) * cg], out=om[:, gi * og:(gi + 1) * og])
    if bias is not None:
        np.add(out, bias, out=out)


# A 2-D convolution whose output planes have at least this many positions runs one
# GEMM per sample, W (O, K) @ cols (K, L), straight into the sample's output: no
# transposition pass after it. Below it the samples' columns side by side make one
# wider GEMM (O, K) @ (K, m*L), whose (O, m, L) result is copied to (m, O, L) in rows
# of L. ResNet-18's 3x3 layers at batch 32, one OpenBLAS (SkylakeX) thread, CPU ms
# per-sample vs batched: L = 3136: 94 vs 112, 784: 63 vs 83, 196: 58 vs 69, 49: 92 vs 68.
_PER_SAMPLE_L = 100
# With at most _BAND_PLANES output planes, a per-sample GEMM whose columns exceed
# 2 * _BAND_BYTES runs in bands of output rows with ~_BAND_BYTES of columns each: im2col
# and GEMM then meet in the L2 cache. Measured (ResNet-18 b32, one thread, CPU ms, whole
# image vs bands): 3->64 7x7/2 at 224: 119 vs 97; 64->64 3x3 at 56: 90 vs 72; with 128
# planes bands lost (128->128 3x3 at 28: 63 vs 72).
_BAND_PLANES = 64
_BAND_BYTES = 512 << 10
# Columns per batched GEMM (several samples side by side): ~6 MiB. Measured (b32, one
# thread, CPU ms, 32 samples per GEMM vs 6-8): 512->512 3x3 at 7: 66 vs 55; 256->512 3x3/2
# at 14: 30 vs 28.
_BATCH_COLS_BYTES = 6 << 20
_C_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


def _c_ready(out, x):
    """Can the C loops (_kernels.pxi) take these arrays: one float type, aligned?"""
    return (out.dtype in _C_DTYPES and x.dtype == out.dtype and out.flags.aligned
            and x.flags.aligned)


def _conv2d_im2col(out, x, w, bias, ksize, stride, pad, dil, g, rows_of=None):
    """2-D convolution of float32/float64 x (n, C, H, W) into out (n, O, oH, oW), im2col
    in C (_kernels.pxi: padding read as zeros, no padded copy) into a reused buffer.
    rows_of = (r0, r1): only the output rows r0..r1-1 (of every sample)."""
    n, c = x.shape[:2]
    o, oh, ow = out.shape[1:]
    lsp = oh * ow
    kh, kw = ksize
    k = c * kh * kw
    kg, og = w.shape[2], w.shape[1]
    dt = out.dtype
    geo = (kh, kw, stride[0], stride[1], pad[0], pad[1], dil[0], dil[1])
    b2 = None if bias is None else bias.reshape(o, 1)

    def gemms(cols, dst):
        for gi in range(g):
            np.matmul(w[gi], cols[gi * kg:(gi + 1) * kg], out=dst[gi * og:(gi + 1) * og])

    if lsp >= _PER_SAMPLE_L or n == 1:
        # rows of output per im2col band: the whole image when it fits the budget, and
        # bands of ~512 KiB for narrow outputs (see _BAND_PLANES)
        budget = _COLS_BUDGET
        if o <= _BAND_PLANES and k * lsp * dt.itemsize > 2 * _BAND_BYTES:
            budget = _BAND_BYTES // dt.itemsize
        rows = max(1, min(oh, budget // max(1, k * ow)))
        first, last = (0, oh) if rows_of is None else rows_of
        cols_buf = _scratch("cols", k * min(rows, last - first) * ow, dt)
        for i in range(n):
            # a band of rows is a 2-D view of the output planes with row stride L (the
            # GEMM writes it through its ldc); a non-contiguous output takes a scratch
            flat = out[i].reshape(o, lsp) if out[i].flags.c_contiguous else None
            for r0 in range(first, last, rows):
                r1 = min(last, r0 + rows)
                cols = cols_buf[:k * (r1 - r0) * ow].reshape(k, (r1 - r0) * ow)
                _c_im2col2d(x[i], cols, *geo, r1 - r0, ow, r0)
                if flat is not None:
                    dst = flat[:, r0 * ow:r1 * ow]
                else:
                    dst = _scratch("res", o * (r1 - r0) * ow, dt).reshape(o, -1)
                gemms(cols, dst)
                if b2 is not None:
                    np.add(dst, b2, out=dst)
                if flat is None:
                    out[i, :, r0:r1] = dst.reshape(o, r1 - r0, ow)
        return
    nb = max(1, min(n, _BATCH_COLS_BYTES // dt.itemsize // max(1, k * lsp)))
    for s0 in range(0, n, nb):
        m = min(nb, n - s0)
        cols = _scratch("cols", k * m * lsp, dt).reshape(k, m * lsp)
        for j in range(m):
            _c_im2col2d(x[s0 + j], cols[:, j * lsp:(j + 1) * lsp], *geo, oh, ow)
        res = _scratch("res", o * m * lsp, dt).reshape(o, m * lsp)
        gemms(cols, res)
        src = res.reshape(o, m, oh, ow).swapaxes(0, 1)
        if bias is None:
            out[s0:s0 + m] = src
        else:
            np.add(src, bias.reshape(1, o, 1, 1), out=out[s0:s0 + m])


# Thread pools of _split_batch by thread count; a forked child has none of their threads.
_pools: dict = {}
os.register_at_fork(after_in_child=_pools.clear)


# Work below which _split_batch runs on the calling thread, in elements of a one-pass
# kernel (~0.5 ms): handing a part to another thread, and the threads' wait for the GIL
# between their calls, cost tens of us each (measured: a 64->64 3x3 convolution of one
# 32x32 sample, 0.8 ms, gained little split in two). A GEMM's multiply-adds count
# 1/_MACS_PER_ELEMENT each.
_SPLIT_MIN = 1 << 19
_MACS_PER_ELEMENT = 50


# When a kernel last split its work over threads (time.monotonic()): nn.Linear follows the
# convolutions' threading while they run in the process.
_last_split = [float("-inf")]
_SPLIT_MEMORY_S = 5.0


def _split_recently():
    return time.monotonic() - _last_split[0] < _SPLIT_MEMORY_S


def _split_batch(n, fn, work, mark=True):
    """fn(s0, s1) over the samples (or rows) 0..n-1 cut into as many parts as the BLAS has threads,
    the parts run at once on threads of their own, each with one BLAS thread.

    One thread per part doing its im2col and GEMMs beats one im2col thread feeding a
    multi-threaded GEMM: the im2col runs in parallel too, and the GEMMs never wait for
    each other (measured, ResNet-18 batch 32 on 2 cores: 1.4-1.7 s against 3.7-10 s per
    forward with OpenBLAS's two threads on a loaded machine). A single sample or less
    work than _SPLIT_MIN runs fn(0, n) here, on one BLAS thread too: OpenBLAS's threads,
    once woken by a call, spin for a while after it and take a core from the next
    split (VGG b32 forward on 2 quiet cores: 116 ms with them spinning, 66 without)."""
    threads = _blas.get_threads() or 1
    t = min(n, threads) if work >= _SPLIT_MIN else 1
    if t < 2:
        if threads > 1:
            with _blas.single_threaded():
                fn(0, n)
        else:
            fn(0, n)
        return
    if mark:
        _last_split[0] = time.monotonic()
    pool = _pools.get(t)
    if pool is None:
        from concurrent.futures import ThreadPoolExecutor
        pool = _pools[t] = ThreadPoolExecutor(t - 1, thread_name_prefix="sparktorch7-nn")
    cuts = [n * i // t for i in range(t + 1)]
    with _blas.single_threaded():
        futs = [pool.submit(fn, cuts[i], cuts[i + 1]) for i in range(1, t)]
        try:
            fn(cuts[0], cuts[1])
        finally:
            errors = [f.exception() for f in futs]
    for e in errors:
        if e is not None:
            raise e


def _convnd(out, x, weight, bias, ksize, stride, pad, dil, groups):
    """1x1 kernels without padding: _conv_pointwise. 2-D float32/float64:
    _conv2d_im2col, split over threads by _split_batch. Otherwise (3-D, other dtypes)
    im2col + one GEMM per block: a chunk of whole samples when one sample's windows
    fit the budget, else a band of output rows (first spatial axis) of one sample.

    Few large GEMMs keep BLAS threads busy (many small ones spend their time
    synchronising, badly so on a loaded machine), and the im2col buffer stays within
    _COLS_BUDGET elements whatever the batch or image size. 1x1 kernels without
    padding skip im2col (_conv_pointwise)."""
    nd = len(ksize)
    x, out = _batched(x, out, nd)
    bias = _opt(bias)
    n, c = x.shape[:2]
    o = out.shape[1]
    osize = tuple(out.shape[2:])
    g = int(groups)
    kprod = math.prod(ksize)
    dt = out.dtype
    w = np.ascontiguousarray(weight, dtype=dt).reshape(g, o // g, (c // g) * kprod)
    b = None if bias is None else np.asarray(bias, dtype=dt).reshape((1, o) + (1,) * nd)
    if kprod == 1 and not any(pad) and out.flags.c_contiguous and x.dtype == dt:
        _split_batch(n, lambda s0, s1: _conv_pointwise(out[s0:s1], x[s0:s1], w, b, stride, g),
                     out.size * w.shape[2] // _MACS_PER_ELEMENT)
        return
    if nd == 2 and _c_ready(out, x):
        args = (w, None if bias is None else np.asarray(bias, dtype=dt).reshape(o), ksize, stride,
                tuple(int(p) for p in pad), dil, g)
        if n == 1:   # one sample: its output rows split over the threads
            _split_batch(out.shape[2], lambda r0, r1: _conv2d_im2col(out, x, *args, rows_of=(r0, r1)),
                         out.size * w.shape[2] // _MACS_PER_ELEMENT)
        else:
            _split_batch(n, lambda s0, s1: _conv2d_im2col(out[s0:s1], x[s0:s1], *args),
                         out.size * w.shape[2] // _MACS_PER_ELEMENT)
        return
    per_sample = c * kprod * math.prod(osize)
    pads = tuple(int(p) for p in pad)
    if per_sample <= _COLS_BUDGET:
        nb = max(1, min(n, _COLS_BUDGET // max(1, per_sample)))
        for s0 in range(0, n, nb):
            _conv_block(out[s0:s0 + nb], _pad_into(x[s0:s0 + nb], pads, "pad"), w, b, ksize,
                        stride, dil, g)
        return
    per_row = per_sample // osize[0]
    rows = max(1, _COLS_BUDGET // max(1, per_row))
    for s0 in range(n):
        xp = _pad_into(x[s0:s0 + 1], pads, "pad")
        for r0 in range(0, osize[0], rows):
            r1 = min(osize[0], r0 + rows)
            band = xp[:, :, r0 * stride[0]:(r1 - 1) * stride[0] + (ksize[0] - 1) * dil[0] + 1]
            _conv_block(out[s0:s0 + 1, :, r0:r1], band, w, b, ksize, stride, dil, g)


def conv2d(out, x, weight, bias, kW, kH, dW, dH, padW, padH, dilW=1, dilH=1, groups=1):
    """Cross-correlation of Torch7's SpatialConvolution(MM)/SpatialDilatedConvolution.

    weight holds nOutputPlane * (nInputPlane/groups) * kH * kW values in that order,
    whatever its shape (4-D, the old 2-D MM layout, cudnn's grouped layouts)."""
    _convnd(out, x, weight, bias, (int(kH), int(kW)), (int(dH), int(dW)),
            (int(padH), int(padW)), (int(dilH), int(dilW)), groups)


def conv3d(out, x, weight, bias, kT, kW, kH, dT, dW, dH, padT, padW, padH, groups=1,
           dilT=1, dilW=1, dilH=1):
    """VolumetricConvolution (and VolumetricDilatedConvolution): weight
    nOutputPlane x nInputPlane/groups x kT x kH x kW."""
    _convnd(out, x, weight, bias, (int(kT), int(kH), int(kW)), (int(dT), int(dH), int(dW)),
            (int(padT), int(padH), int(padW)), (int(dilT), int(dilH), int(dilW)), groups)


def _full_convnd(out, x, weight, bias, ksize, stride, pad, dil):
    """Transposed convolution: weight nInputPlane x nOutputPlane x *ksize; along each
    axis out = (in - 1) * stride - 2 * pad + dil * (k - 1) + 1 + adj.

    Per chunk of samples one GEMM weight^T (O*k, C) @ x (C, nb*L) gives every kernel
    offset's contribution; col2im then adds them at their strided places."""
    nd = len(ksize)
    x, out = _batched(x, out, nd)
    bias = _opt(bias)
    n, c = x.shape[:2]
    isize = x.shape[2:]
    o = out.shape[1]
    osize = out.shape[2:]
    dt = out.dtype
    kprod = math.prod(ksize)
    wt = np.ascontiguousarray(weight, dtype=dt).reshape(c, o * kprod).T
    lsp = math.prod(isize)
    nb = max(1, min(n, _COLS_BUDGET // max(1, o * kprod * lsp)))
    perm = (1, 0) + tuple(range(2, 2 + nd))
    for s0 in range(0, n, nb):
        xs = x[s0:s0 + nb]
        m = xs.shape[0]
        xc = np.ascontiguousarray(xs.transpose(perm)).reshape(c, m * lsp)
        cols = np.matmul(wt, xc).reshape((o,) + tuple(ksize) + (m,) + tuple(isize))
        full = np.zeros((m, o) + tuple(s + 2 * p for s, p in zip(osize, pad)), dtype=dt)
        for idx in itertools.product(*(range(k) for k in ksize)):
            sl = tuple(slice(i * d, i * d + (n_in - 1) * st + 1, st)
                       for i, d, n_in, st in zip(idx, dil, isize, stride))
            full[(slice(None), slice(None)) + sl] += cols[(slice(None),) + idx].transpose(perm)
        out[s0:s0 + m] = full[(slice(None), slice(None))
                              + tuple(slice(p, p + s) for p, s in zip(pad, osize))]
    if bias is not None:
        out += bias.reshape((1, o) + (1,) * nd).astype(dt, copy=False)


def full_conv2d(out, x, weight, bias, kW, kH, dW, dH, padW, padH, dilW=1, dilH=1):
    """SpatialFullConvolution: weight nInputPlane x nOutputPlane x kH x kW."""
    _full_convnd(out, x, weight, bias, (int(kH), int(kW)), (int(dH), int(dW)),
                 (int(padH), int(padW)), (int(dilH), int(dilW)))


def full_conv3d(out, x, weight, bias, kT, kW, kH, dT, dW, dH, padT, padW, padH):
    """VolumetricFullConvolution: weight nInputPlane x nOutputPlane x kT x kH x kW."""
    _full_convnd(out, x, weight, bias, (int(kT), int(kH), int(kW)), (int(dT), int(dH), int(dW)),
                 (int(padT), int(padH), int(padW)), (1, 1, 1))


def _conn_dense(conn, weight, o, c, kH, kW, dtype):
    """SpatialConvolutionMap's connections as a dense (o, c, kH, kW) convolution weight,
    zero where there is no connection (a connection listed twice adds up); and the
    0-based (output, input) plane of each connection."""
    conn = np.asarray(conn).astype(np.int64) - 1
    dense = np.zeros((o, c, kH, kW), dtype=dtype)
    np.add.at(dense, (conn[:, 1], conn[:, 0]), np.asarray(weight).reshape(-1, kH, kW))
    return dense, conn


def conv_map2d(out, x, conn, weight, bias, kW, kH, dW, dH):
    """SpatialConvolutionMap: connection k adds xcorr(x[conn[k, 0]], weight[k]) to output
    plane conn[k, 1] (1-based); run as a dense convolution whose kernel is zero where
    there is no connection."""
    kW, kH = int(kW), int(kH)
    dense, _ = _conn_dense(conn, weight, out.shape[-3], x.shape[-3], kH, kW, out.dtype)
    conv2d(out, x, dense, bias, kW, kH, dW, dH, 0, 0)


def subsampling2d(out, x, weight, bias, kW, kH, dW, dH):
    """SpatialSubSampling: per plane, bias + weight * (window sum)."""
    x, out = _batched(x, out, 2)
    avg_pool(out, x, (kH, kW), (dH, dW), (0, 0), True, int(kW) * int(kH))
    c = out.shape[1]
    out *= weight.reshape(1, c, 1, 1).astype(out.dtype, copy=False)
    out += bias.reshape(1, c, 1, 1).astype(out.dtype, copy=False)


def temporal_conv(out, x, weight, bias, kW, dW):
    """TemporalConvolution: x (T, F) or (N, T, F); weight outputFrameSize x (kW*F)."""
    kW, dW = int(kW), int(dW)
    bias = _opt(bias)
    if x.ndim == 2:
        x, out = x[None], out[None]
    n, t, f = x.shape
    ot = out.shape[1]
    x = np.ascontiguousarray(x)
    s = x.strides[2]
    win = _window(x, (n, ot, kW * f), (x.strides[0], dW * f * s, s))
    w = np.ascontiguousarray(weight).reshape(-1, kW * f).astype(out.dtype, copy=False)
    np.matmul(win, w.T, out=out)
    if bias is not None:
        out += bias.astype(out.dtype, copy=False)


# ----------------------------------------------------------------------------
# pooling
# ----------------------------------------------------------------------------

def _pool_input(x, osize, ksize, stride, dil, pad, value):
    """Pad x (N, C, *spatial) on every side by pad and at the end as far as the last
    window reaches (ceil mode), filling with value."""
    pads = []
    for size, o, k, s, d, p in zip(x.shape[2:], osize, ksize, stride, dil, pad):
        need = (o - 1) * s + (k - 1) * d + 1
        pads.append((p, max(p, need - size - p)))
    return _pad(x, pads, value)


def max_pool(out, x, ksize, stride, pad, dil):
    """Max over windows; padded positions never win (-inf). NaN propagates like THNN."""
    nd = len(ksize)
    x, out = _batched(x, out, nd)
    ksize, stride, pad, dil = (tuple(int(v) for v in a) for a in (ksize, stride, pad, dil))
    if nd == 2 and _c_ready(out, x):
        # C loop over each plane (_kernels.pxi), no padded copy of the input
        def part(s0, s1):
            for i in range(s0, s1):
                _c_max_pool2d(x[i], out[i], *ksize, *stride, *pad, *dil)

        def planes(c0, c1):   # one sample: its planes split over the threads
            _c_max_pool2d(x[0, c0:c1], out[0, c0:c1], *ksize, *stride, *pad, *dil)
        n = x.shape[0]
        _split_batch(n if n > 1 else x.shape[1], part if n > 1 else planes,
                     out.size * ksize[0] * ksize[1])
        return
    osize = out.shape[2:]
    fill = -np.inf if np.issubdtype(x.dtype, np.floating) else np.iinfo(x.dtype).min
    xp = _pool_input(x, osize, ksize, stride, dil, pad, fill)
    first = True
    for sl in _offset_slices(ksize, stride, dil, osize):
        v = xp[(slice(None), slice(None)) + sl]
        if first:
            out[...] = v
            first = False
        else:
            np.maximum(out, v, out=out)


def max_pool_indices(out, indices, x, ksize, stride, pad, dil):
    """Max pooling that also records where each maximum came from, as THNN does: the
    1-based flat position in the input plane, the first of equal maxima in row-major
    window order (the last NaN if any), 0 when the window holds only padding."""
    nd = len(ksize)
    x, out = _batched(x, out, nd)
    indices = indices if indices.ndim == out.ndim else indices[None]
    ksize, stride, pad, dil = (tuple(int(v) for v in a) for a in (ksize, stride, pad, dil))
    osize = out.shape[2:]
    isize = x.shape[2:]
    xp = _pool_input(x, osize, ksize, stride, dil, pad, -np.inf)
    out[...] = -np.inf
    indices[...] = 0
    mask = np.empty(out.shape, dtype=bool)
    nanm = np.empty(out.shape, dtype=bool)
    for idx in itertools.product(*(range(k) for k in ksize)):
        sl = tuple(slice(i * d, i * d + (o - 1) * s + 1, s)
                   for i, d, s, o in zip(idx, dil, stride, osize))
        v = xp[(slice(None), slice(None)) + sl]
        np.greater(v, out, out=mask)
        np.isnan(v, out=nanm)
        mask |= nanm
        np.copyto(out, v, where=mask)
        # flat input position of this offset for every output position (1-based)
        pos = np.zeros((), dtype=np.int64)
        for a in range(nd):
            coord = np.arange(osize[a]) * stride[a] - pad[a] + idx[a] * dil[a]
            pos = pos * isize[a] + coord.reshape((-1,) + (1,) * (nd - 1 - a))
        np.copyto(indices, pos + 1, where=mask)


def max_pool2d(out, x, kW, kH, dW, dH, padW, padH, dilW=1, dilH=1, indices=None):
    if _opt(indices) is None:
        max_pool(out, x, (kH, kW), (dH, dW), (padH, padW), (dilH, dilW))
    else:
        max_pool_indices(out, indices, x, (kH, kW), (dH, dW), (padH, padW), (dilH, dilW))


def max_pool3d(out, x, kT, kW, kH, dT, dW, dH, padT, padW, padH, dilT=1, dilW=1, dilH=1):
    max_pool(out, x, (kT, kH, kW), (dT, dH, dW), (padT, padH, padW), (dilT, dilH, dilW))


def max_unpool2d(out, x, indices):
    """SpatialMaxUnpooling: zeros, and each input value at its recorded (1-based, per
    plane) position in the output plane."""
    x, out = _batched(x, out, 2)
    indices = indices if indices.ndim == 4 else indices[None]
    n, c = x.shape[:2]
    plane = out.shape[2] * out.shape[3]
    idx = indices.reshape(n * c, -1) - 1
    if idx.size and (idx.min() < 0 or idx.max() >= plane):
        bad = idx.min() if idx.min() < 0 else idx.max()
        raise IndexError(f"invalid max index {int(bad)}, owidth= {out.shape[3]}, "
                         f"oheight= {out.shape[2]}")
    flat = np.zeros((n * c, plane), dtype=out.dtype)
    np.put_along_axis(flat, idx, x.reshape(n * c, -1), axis=1)
    out[...] = flat.reshape(out.shape)


def _avg_divisor(size, o, k, s, p, include_pad):
    """Per output position along one axis: the window's extent clipped to the padded
    input (count_include_pad) or to the input itself, as THNN counts it."""
    start = np.arange(o) * s - p
    end = np.minimum(start + k, size + p)
    if include_pad:
        return end - start
    return np.minimum(end, size) - np.maximum(start, 0)


def avg_pool(out, x, ksize, stride, pad, include_pad, scale=None):
    nd = len(ksize)
    x, out = _batched(x, out, nd)
    ksize, stride, pad = (tuple(int(v) for v in a) for a in (ksize, stride, pad))
    osize = out.shape[2:]
    xp = _pool_input(x, osize, ksize, stride, (1,) * nd, pad, 0)
    acc = out if out.dtype.kind == "f" else np.zeros(out.shape, np.float64)
    first = True
    for sl in _offset_slices(ksize, stride, (1,) * nd, osize):
        v = xp[(slice(None), slice(None)) + sl]
        if first:
            acc[...] = v
            first = False
        else:
            acc += v
    div = np.ones((), dtype=np.int64)
    for axis, (size, o, k, s, p) in enumerate(zip(x.shape[2:], osize, ksize, stride, pad)):
        d = _avg_divisor(size, o, k, s, p, bool(include_pad))
        div = div * d.reshape((-1,) + (1,) * (nd - 1 - axis))
    acc /= div.astype(acc.dtype)
    if scale is not None and scale is not False:
        acc *= scale
    if acc is not out:
        out[...] = acc


def avg_pool2d(out, x, kW, kH, dW, dH, padW, padH, count_include_pad=True, scale=None):
    avg_pool(out, x, (kH, kW), (dH, dW), (padH, padW), count_include_pad, scale)


def avg_pool3d(out, x, kT, kW, kH, dT, dW, dH, padT, padW, padH, count_include_pad=True, scale=None):
    avg_pool(out, x, (kT, kH, kW), (dT, dH, dW), (padT, padH, padW), count_include_pad, scale)


def temporal_max_pool(out, x, kW, dW):
    """TemporalMaxPooling: max over frames; x (T, F) or (N, T, F)."""
    kW, dW = int(kW), int(dW)
    if x.ndim == 2:
        x, out = x[None], out[None]
    ot = out.shape[1]
    out[...] = x[:, 0:(ot - 1) * dW + 1:dW]
    for k in range(1, kW):
        np.maximum(out, x[:, k:k + (ot - 1) * dW + 1:dW], out=out)


def temporal_subsampling(out, x, weight, bias, kW, dW):
    """TemporalSubSampling: out[t, f] = bias[f] + weight[f] * sum_k x[t*dW + k, f]."""
    kW, dW = int(kW), int(dW)
    if x.ndim == 2:
        x, out = x[None], out[None]
    ot = out.shape[1]
    out[...] = x[:, 0:(ot - 1) * dW + 1:dW]
    for k in range(1, kW):
        out += x[:, k:k + (ot - 1) * dW + 1:dW]
    out *= weight.astype(out.dtype, copy=False)
    out += bias.astype(out.dtype, copy=False)


def _adaptive_bounds(size, o):
    i = np.arange(o)
    return (i * size) // o, -((-(i + 1) * size) // o)


def adaptive_pool2d(out, x, mode):
    """SpatialAdaptive{Max,Average}Pooling: bin i of an axis covers
    [floor(i*size/o), ceil((i+1)*size/o)); both reductions are separable."""
    x, out = _batched(x, out, 2)
    h, w = x.shape[2:]
    oh, ow = out.shape[2:]
    red = np.max if mode == "max" else np.mean
    hs, he = _adaptive_bounds(h, oh)
    ws, we = _adaptive_bounds(w, ow)
    if mode == "max":
        rows = np.stack([red(x[:, :, a:b, :], axis=2) for a, b in zip(hs, he)], axis=2)
        out[...] = np.stack([red(rows[:, :, :, a:b], axis=3) for a, b in zip(ws, we)], axis=3)
    else:
        # sum then divide once, like THNN
        rows = np.stack([x[:, :, a:b, :].sum(axis=2) for a, b in zip(hs, he)], axis=2)
        tot = np.stack([rows[:, :, :, a:b].sum(axis=3) for a, b in zip(ws, we)], axis=3)
        area = (he - hs)[:, None] * (we - ws)[None, :]
        out[...] = tot / area.astype(out.dtype)


# ----------------------------------------------------------------------------
# normalisation
# ----------------------------------------------------------------------------

def _view3(a):
    """a (N, C, ...) as an (N, C, L) view, or None where that needs a copy."""
    v = a.view()
    try:
        v.shape = a.shape[:2] + (-1,)
    except AttributeError:
        return None
    return v


def batchnorm(out, x, single, weight, bias, running_mean, running_var, save_mean, save_std,
              train, momentum, eps):
    """BatchNormalization over axis 1 of x (N, C, ...), or axis 0 when single. In
    training mode uses the batch statistics and updates the running ones in place
    (unbiased variance), as THNN."""
    if single:
        x, out = x[None], out[None]
    weight, bias, save_mean, save_std = (_opt(v) for v in (weight, bias, save_mean, save_std))
    c = x.shape[1]
    shape = (1, c) + (1,) * (x.ndim - 2)
    dt = out.dtype
    if train:
        axes = (0,) + tuple(range(2, x.ndim))
        cnt = x.size // c
        mean = x.mean(axis=axes, dtype=np.float64)
        ssd = ((x - mean.reshape(shape).astype(dt)) ** 2).sum(axis=axes, dtype=np.float64)
        invstd = 1.0 / np.sqrt(ssd / cnt + eps)
        running_mean *= (1 - momentum)
        running_mean += momentum * mean.astype(running_mean.dtype)
        unbiased = ssd / (cnt - 1) if cnt > 1 else ssd
        running_var *= (1 - momentum)
        running_var += momentum * unbiased.astype(running_var.dtype)
        if save_mean is not None:
            save_mean[...] = mean
        if save_std is not None:
            save_std[...] = invstd
    else:
        mean = running_mean.astype(np.float64)
        invstd = 1.0 / np.sqrt(running_var.astype(np.float64) + eps)
    scale = invstd if weight is None else invstd * weight
    if x.ndim >= 2 and _c_ready(out, x):
        x3, o3 = _view3(x), _view3(out)
        if x3 is not None and o3 is not None:
            vecs = (mean.astype(dt), scale.astype(dt),
                    None if bias is None else np.ascontiguousarray(bias, dtype=dt).reshape(c))
            _split_batch(x3.shape[0], lambda s0, s1: _c_channel_affine(x3[s0:s1], o3[s0:s1], *vecs),
                         x3.size)
            return
    np.subtract(x, mean.reshape(shape).astype(dt), out=out)
    out *= scale.reshape(shape).astype(dt)
    if bias is not None:
        out += bias.reshape(shape).astype(dt)


def bn_fold(fw, fb, weight, bias, bn_weight, bn_bias, running_mean, running_var, eps):
    """A SpatialBatchNormalization in evaluation mode folded into the convolution before
    it: fw := weight * s per output plane and fb := (bias - running_mean) * s + bn_bias,
    s = bn_weight / sqrt(running_var + eps), computed in float64 and stored in fw's type.
    A missing bias / bn_weight / bn_bias counts as 0 / 1 / 0."""
    bias, bn_weight, bn_bias = _opt(bias), _opt(bn_weight), _opt(bn_bias)
    o = fb.shape[0]
    scale = 1.0 / np.sqrt(running_var.astype(np.float64).reshape(o) + float(eps))
    if bn_weight is not None:
        scale = scale * bn_weight.reshape(o)
    shift = -running_mean.astype(np.float64).reshape(o)
    if bias is not None:
        shift = shift + bias.reshape(o)
    shift = shift * scale
    if bn_bias is not None:
        shift = shift + bn_bias.reshape(o)
    fw.reshape(o, -1)[...] = weight.reshape(o, -1).astype(np.float64) * scale[:, None]
    fb[...] = shift


def same_bytes(*pairs):
    """True when each pair (a, b) of arrays (or None/False) holds the same shape, dtype
    and bytes: the check that a cached derivation is still valid."""
    for a, b in zip(pairs[0::2], pairs[1::2]):
        a, b = _opt(a), _opt(b)
        if a is None or b is None:
            if a is not b:
                return False
            continue
        if a.shape != b.shape or a.dtype != b.dtype:
            return False
        a, b = np.ascontiguousarray(a), np.ascontiguousarray(b)
        if a.nbytes and _memcmp(a.ctypes.data, b.ctypes.data, a.nbytes) != 0:
            return False
    return True


def _libc_memcmp():
    """libc's memcmp (no temporaries, several GB/s), or a numpy stand-in."""
    try:
        fn = ctypes.CDLL(None).memcmp
        fn.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_size_t]
        fn.restype = ctypes.c_int
        return fn
    except (OSError, AttributeError):  # pragma: no cover - no libc symbols
        def cmp(pa, pb, n):
            va = np.ctypeslib.as_array((ctypes.c_ubyte * n).from_address(pa))
            vb = np.ctypeslib.as_array((ctypes.c_ubyte * n).from_address(pb))
            return 0 if np.array_equal(va, vb) else 1
        return cmp


_memcmp = _libc_memcmp()


def bn_var_from_std(var, std, eps):
    """BatchNormalization files older than version 2 stored 1/sqrt(var + eps)."""
    var[...] = std.astype(np.float64) ** -2 - eps


def cross_map_lrn(out, x, size, alpha, beta, k, before, after):
    """LRN across channels: out = x * (k + alpha/size * sum_{c-before..c+after} x^2)^-beta,
    in the tensor's type, by chunks of the batch (bounded memory)."""
    x, out = _batched(x, out, 2)
    n, c = x.shape[:2]
    before, after = int(before), int(after)
    dt = out.dtype
    per = (c + before + after) * math.prod(x.shape[2:])
    nb = max(1, min(n, _COLS_BUDGET // max(1, per)))
    for s0 in range(0, n, nb):
        xs = x[s0:s0 + nb]
        m = xs.shape[0]
        sq = np.zeros((m, c + before + after) + xs.shape[2:], dtype=dt)
        np.square(xs, out=sq[:, before:before + c])
        scale = sq[:, 0:c].copy()
        for d in range(1, before + after + 1):
            scale += sq[:, d:d + c]
        scale *= dt.type(alpha / size)
        scale += dt.type(k)
        np.power(scale, dt.type(-beta), out=scale)
        np.multiply(xs, scale, out=out[s0:s0 + m])


def softmax(out, x, axis, log=False):
    """(Log)SoftMax along axis (0-based), max-shifted."""
    m = x.max(axis=axis, keepdims=True)
    np.subtract(x, m, out=out)
    if log:
        e = np.exp(out)
        out -= np.log(e.sum(axis=axis, keepdims=True))
    else:
        np.exp(out, out=out)
        out /= out.sum(axis=axis, keepdims=True)


def softmax_flat(out, x, single, log=False):
    """SoftMax over everything but the first axis (cudnn's instance mode); a single
    instance when single."""
    if single:
        x, out = x[None], out[None]
    n = x.shape[0]
    om = out.reshape(n, -1)
    softmax(om, np.ascontiguousarray(x).reshape(n, -1), 1, log)
    if not np.shares_memory(om, out):
        out[...] = om.reshape(out.shape)


# ----------------------------------------------------------------------------
# criterions (the Lua side checks shapes and that every target is in range)
# ----------------------------------------------------------------------------
# Targets arrive 1-based (Torch7's), as integer tensors; a loss is written into the
# one-element tensor out (and the total weight into total), summed in float64.

def _picked_classes(target):
    """The 0-based class plane of every target of a (N, H, W) map: (N, 1, H, W) intp."""
    return target[:, None].astype(np.intp) - 1


def _class_weights(weights, idx, dtype):
    """The weight of every target (1 for all without weights)."""
    if _opt(weights) is None:
        return np.ones(idx.shape, dtype)
    return np.asarray(weights)[idx]


def spatial_class_nll(out, total, x, target, weights, size_average):
    """SpatialClassNLLCriterion: -sum w[t] x[n, t, h, w] over a (N, C, H, W) input and
    its (N, H, W) targets; divided by the total weight with size_average (when > 0)."""
    idx = _picked_classes(target)
    w = _class_weights(weights, idx, x.dtype)
    tw = w.sum(dtype=np.float64)
    s = -(np.take_along_axis(x, idx, axis=1) * w).sum(dtype=np.float64)
    if size_average and tw != 0:
        s /= tw
    out[0] = s
    total[0] = tw


def spatial_class_nll_grad(gin, target, weights, size_average):
    """Its gradient: -w[t] (divided by the total weight with size_average) at each
    target's class, 0 elsewhere; all 0 when the targets weigh nothing. Returns the
    total weight."""
    gin[...] = 0
    idx = _picked_classes(target)
    w = _class_weights(weights, idx, gin.dtype)
    tw = w.sum(dtype=np.float64)
    if not tw > 0:
        return tw
    scale = -1.0 / tw if size_average else -1.0
    np.put_along_axis(gin, idx, (w * scale).astype(gin.dtype), axis=1)
    return tw


# Elements of the (frames, targets, classes) margin array per chunk of frames
_MARGIN_CHUNK = 1 << 22


def _label_sets(target):
    """The target lists of a (frames, classes) tensor of 1-based class indices, each
    list ending at its first 0: the 0-based indices (0 past the end), the mask of
    the listed ones, and the mask of the classes listed per frame."""
    valid = np.cumsum(target <= 0, axis=1) == 0
    idx = np.where(valid, target - 1, 0).astype(np.intp)
    listed = np.zeros(target.shape, bool)
    rows = np.broadcast_to(np.arange(target.shape[0])[:, None], target.shape)
    listed[rows[valid], idx[valid]] = True
    return idx, valid, listed


def _margin_chunks(x, sets):
    """Per chunk of frames: its slice, its target indices, and the (frames, j, i) mask
    of the hinge terms 1 - x[y_j] + x[i] > 0 counted (j listed, i not) with their values.
    The lists are prefixes, so j runs over the longest list of the chunk only."""
    idx, valid, listed = sets
    nframe, dim = x.shape
    longest = valid.sum(axis=1)
    step = max(1, _MARGIN_CHUNK // max(1, dim * max(1, int(longest.max(initial=0)))))
    for s0 in range(0, nframe, step):
        sl = slice(s0, s0 + step)
        n = int(longest[sl].max(initial=0))
        xs, ids = x[sl], idx[sl, :n]
        z = 1 - np.take_along_axis(xs, ids, axis=1)[:, :, None] + xs[:, None, :]
        keep = valid[sl, :n][:, :, None] & ~listed[sl][:, None, :] & (z > 0)
        yield sl, ids, keep, z


def _frames(x, target):
    """A 1D input as one frame: (frames, classes) views of x and target."""
    return x.reshape(-1, x.shape[-1]), target.reshape(-1, x.shape[-1])


def multilabel_margin(out, is_target, x, target, size_average):
    """MultiLabelMarginCriterion: sum over listed targets j and unlisted classes i of
    max(0, 1 - x[y_j] + x[i]), divided by the classes (and the frames with
    size_average); a 1D input is one frame. Marks the listed classes in is_target."""
    x2, t2 = _frames(x, target)
    sets = _label_sets(t2)
    is_target[...] = sets[2].reshape(is_target.shape)
    total = 0.0
    for _, _, keep, z in _margin_chunks(x2, sets):
        total += np.where(keep, z, 0).sum(dtype=np.float64)
    total /= x2.shape[1]
    if size_average:
        total /= x2.shape[0]
    out[0] = total


def multilabel_margin_grad(gin, x, target, size_average):
    """Its gradient: each counted hinge term adds g to x[i] and -g to x[y_j], with
    g = 1 / classes (1 / (classes * frames) with size_average)."""
    x2, t2 = _frames(x, target)
    nframe, dim = x2.shape
    g = 1.0 / (nframe * dim) if size_average else 1.0 / dim
    gin2 = gin.reshape(nframe, dim)
    for sl, idx, keep, _ in _margin_chunks(x2, _label_sets(t2)):
        acc = keep.sum(axis=1) * g
        rows = np.broadcast_to(np.arange(idx.shape[0])[:, None], idx.shape)
        np.add.at(acc, (rows, idx), -g * keep.sum(axis=2))
        gin2[sl] = acc


# ----------------------------------------------------------------------------
# padding, resampling, shuffles
# ----------------------------------------------------------------------------

def pad2d(out, x, left, right, top, bottom, mode):
    """Spatial{Zero,Reflection,Replication}Padding on the last two axes; negative pads
    crop."""
    left, right, top, bottom = int(left), int(right), int(top), int(bottom)
    h, w = x.shape[-2:]
    x = x[..., max(0, -top):h - max(0, -bottom), max(0, -left):w - max(0, -right)]
    t, b, l, r = max(0, top), max(0, bottom), max(0, left), max(0, right)
    if mode == "zero":
        if t or b or l or r:
            out[...] = 0
        out[..., t:t + x.shape[-2], l:l + x.shape[-1]] = x
        return
    widths = [(0, 0)] * (x.ndim - 2) + [(t, b), (l, r)]
    out[...] = np.pad(x, widths, mode="reflect" if mode == "reflect" else "edge")


def upsample_nearest(out, x, scale):
    """Each pixel repeated scale x scale times on the last two axes."""
    s = int(scale)
    h, w = x.shape[-2:]
    view = out.reshape(out.shape[:-2] + (h, s, w, s))
    view[...] = x[..., :, None, :, None]


def _bilinear_coords(n1, n2, dt):
    """Along one axis: the two source indices of each output position and their weights."""
    r = np.float32(n1 - 1) / np.float32(n2 - 1) if n2 > 1 else np.float32(0)
    pos = r * np.arange(n2, dtype=np.float32)
    i0 = pos.astype(np.int64)
    step = (i0 < n1 - 1).astype(np.int64)
    lam1 = (pos.astype(dt) - i0.astype(dt))
    return i0, i0 + step, (1 - lam1).astype(dt), lam1.astype(dt)


def upsample_bilinear(out, x):
    """Torch7's bilinear up-sampling (corner-aligned), with the source coordinates in
    float32 arithmetic exactly as THNN computes them."""
    h1, w1 = x.shape[-2:]
    h2, w2 = out.shape[-2:]
    if (h1, w1) == (h2, w2):
        out[...] = x
        return
    dt = out.dtype
    a0, a1, ha0, ha1 = _bilinear_coords(h1, h2, dt)
    b0, b1, wb0, wb1 = _bilinear_coords(w1, w2, dt)
    rows = x[..., b0] * wb0 + x[..., b1] * wb1
    out[...] = rows[..., a0, :] * ha0[:, None] + rows[..., a1, :] * ha1[:, None]


def _pixel_views(small, big, r):
    """PixelShuffle's two layouts of the same elements: small (N, C*r*r, H, W) seen as
    (N, C, r, r, H, W), big (N, C, H*r, W*r) as (N, C, H, r, W, r); and the leading axes."""
    lead = small.shape[:-3]
    cr, h, w = small.shape[-3:]
    c = cr // (r * r)
    return small.reshape(lead + (c, r, r, h, w)), big.reshape(lead + (c, h, r, w, r)), len(lead)


def pixel_shuffle(out, x, r):
    """(N, C*r*r, H, W) -> (N, C, H*r, W*r); channel c*r*r + i*r + j feeds (h*r+i, w*r+j)."""
    v, o, nl = _pixel_views(x, out, int(r))
    o[...] = v.transpose(tuple(range(nl)) + tuple(nl + i for i in (0, 3, 1, 4, 2)))


def _local_kernel(kernel, c, h, w):
    """Spatial*Normalization's weighting: the normalised 2-D kernel Kn = K / (sum(K) * c)
    (a 1-D kernel k stands for outer(k, k)) and the border coefficient conv(c ones)."""
    k = np.asarray(kernel, dtype=np.float64)
    if k.ndim == 1:
        k = np.outer(k, k)
    kn = k / (k.sum() * c)
    return kn, _local_conv(np.full((h, w), float(c)), kn)


def _local_conv(plane, kn):
    """Zero-padded 'same' correlation of the trailing (h, w) axes of plane with kn."""
    kh, kw = kn.shape
    h, w = plane.shape[-2:]
    ph, pw = kh // 2, kw // 2
    sp = np.zeros(plane.shape[:-2] + (h + 2 * ph, w + 2 * pw))
    sp[..., ph:ph + h, pw:pw + w] = plane
    res = np.zeros(plane.shape)
    for i in range(kh):
        for j in range(kw):
            res += kn[i, j] * sp[..., i:i + h, j:j + w]
    return res


def _local_conv_t(plane, kn):
    """The adjoint of _local_conv: each output cell spreads back over the cells it read."""
    kh, kw = kn.shape
    h, w = plane.shape[-2:]
    ph, pw = kh // 2, kw // 2
    full = np.zeros(plane.shape[:-2] + (h + 2 * ph, w + 2 * pw))
    for i in range(kh):
        for j in range(kw):
            full[..., i:i + h, j:j + w] += kn[i, j] * plane
    return full[..., ph:ph + h, pw:pw + w]


def local_normalize(out, x, kernel, mode, threshold=0.0, thresval=0.0):
    """Spatial{Subtractive,Divisive}Normalization. Torch7 builds these from zero padding,
    one-to-one convolutions with the normalised kernel (a 1-D kernel k is applied along
    W then H, i.e. the 2-D kernel outer(k, k)), a sum over planes and a division by the
    same estimator run on ones (``coef``). With Kn = K / (sum(K) * nInputPlane):
    subtractive: x - conv(sum_c x, Kn) / conv(sum_c 1, Kn)
    divisive:    x / thr(sqrt(conv(sum_c x^2, Kn)) / conv(sum_c 1, Kn))
    where thr(v) = v if v > threshold else thresval (nn.Threshold)."""
    x, out = _batched(x, out, 2)
    n, c, h, w = x.shape
    kn, coef = _local_kernel(kernel, c, h, w)
    dt = out.dtype
    if mode == "subtractive":
        mean = _local_conv(x.sum(axis=1, dtype=np.float64), kn) / coef
        np.subtract(x, mean[:, None].astype(dt), out=out)
    else:
        std = np.sqrt(_local_conv(np.square(x, dtype=np.float64).sum(axis=1), kn)) / coef
        std = np.where(std > threshold, std, thresval)
        np.divide(x, std[:, None].astype(dt), out=out)


# ----------------------------------------------------------------------------
# gradients (updateGradInput / accGradParameters)
# ----------------------------------------------------------------------------
# Each kernel writes into gin (sized like the input by the Lua side) or adds
# scale * gradient into gradWeight/gradBias, as Torch7's accGradParameters does.

def _im2col(xp, ksize, osize, stride, dil):
    """Window view of a padded block xp (m, C, *spatial) as (C, *ksize, m, *osize)."""
    nd = len(ksize)
    m, c = xp.shape[:2]
    st = xp.strides
    shape = (c,) + tuple(ksize) + (m,) + tuple(osize)
    return _window(xp, shape, (st[1],) + tuple(st[2 + i] * dil[i] for i in range(nd)) + (st[0],)
                   + tuple(st[2 + i] * stride[i] for i in range(nd)))


def _col2im(full, cols, ksize, osize, stride, dil):
    """Adjoint of _im2col: add cols (C, *ksize, m, *osize) into full (m, C, *spatial)."""
    nd = len(ksize)
    perm = (1, 0) + tuple(range(2, 2 + nd))
    for idx in itertools.product(*(range(k) for k in ksize)):
        sl = tuple(slice(i * d, i * d + (o - 1) * s + 1, s)
                   for i, d, o, s in zip(idx, dil, osize, stride))
        full[(slice(None), slice(None)) + sl] += cols[(slice(None),) + idx].transpose(perm)


def _crop(full, pad, size):
    return full[(slice(None), slice(None)) + tuple(slice(p, p + s) for p, s in zip(pad, size))]


def _conv_grad_input(gin, gout, weight, ksize, stride, pad, dil, groups):
    """gin := d(conv)/d(input)' gout: W' gout per group, then col2im. With stride 1 it
    is itself a convolution, run by the forward's kernel: gout padded by dil*(k-1) - pad
    against the flipped weight with input and output planes swapped (per group)."""
    nd = len(ksize)
    gin, gout = _batched(gin, gout, nd)
    n, c = gin.shape[:2]
    o = gout.shape[1]
    osize = gout.shape[2:]
    g = int(groups)
    dt = gin.dtype
    kprod = math.prod(ksize)
    tpad = tuple(d * (k - 1) - p for k, p, d in zip(ksize, pad, dil))
    if all(s == 1 for s in stride) and min(tpad) >= 0:
        w = np.asarray(weight, dtype=dt).reshape((g, o // g, c // g) + tuple(ksize))
        wt = np.flip(w.swapaxes(1, 2), axis=tuple(range(3, 3 + nd))).reshape((c, o // g) + tuple(ksize))
        _convnd(gin, gout, wt, None, ksize, (1,) * nd, tpad, dil, g)
        return
    w = np.asarray(weight, dtype=dt).reshape(g, o // g, (c // g) * kprod)
    lsp = math.prod(osize)
    perm = (1, 0) + tuple(range(2, 2 + nd))
    nb = max(1, min(n, _COLS_BUDGET // max(1, c * kprod * lsp)))
    for s0 in range(0, n, nb):
        gs = gout[s0:s0 + nb]
        m = gs.shape[0]
        gm = np.ascontiguousarray(gs.transpose(perm), dtype=dt).reshape(o, m * lsp)
        cols = np.empty((c * kprod, m * lsp), dtype=dt)
        cg, og = (c // g) * kprod, o // g
        for gi in range(g):
            np.matmul(w[gi].T, gm[gi * og:(gi + 1) * og], out=cols[gi * cg:(gi + 1) * cg])
        full = np.zeros((m, c) + tuple(s + 2 * p for s, p in zip(gin.shape[2:], pad)), dtype=dt)
        _col2im(full, cols.reshape((c,) + tuple(ksize) + (m,) + tuple(osize)), ksize, osize,
                stride, dil)
        gin[s0:s0 + m] = _crop(full, pad, gin.shape[2:])


def _conv_acc_grad(gweight, gbias, x, gout, ksize, stride, pad, dil, groups, scale):
    """gweight += scale * gout cols(x)' per group; gbias += scale * sum of gout per plane."""
    nd = len(ksize)
    x, gout = _batched(x, gout, nd)
    gbias = _opt(gbias)
    n, c = x.shape[:2]
    o = gout.shape[1]
    osize = gout.shape[2:]
    g = int(groups)
    kprod = math.prod(ksize)
    dt = gweight.dtype
    lsp = math.prod(osize)
    perm = (1, 0) + tuple(range(2, 2 + nd))
    acc = np.zeros((g, o // g, (c // g) * kprod), dtype=dt)
    pads = tuple(int(p) for p in pad)
    nb = max(1, min(n, _COLS_BUDGET // max(1, c * kprod * lsp)))
    cg, og = (c // g) * kprod, o // g
    for s0 in range(0, n, nb):
        xp = _pad_into(x[s0:s0 + nb], pads, "pad") if x.dtype == dt else \
            _pad(x[s0:s0 + nb], [(p, p) for p in pads], 0)
        m = xp.shape[0]
        win = _im2col(xp, ksize, osize, stride, dil)
        cols = _scratch("cols", win.size, dt).reshape(win.shape)
        np.copyto(cols, win)
        cols = cols.reshape(c * kprod, m * lsp)
        gm = _scratch("res", o * m * lsp, dt).reshape((o, m) + tuple(osize))
        np.copyto(gm, gout[s0:s0 + m].transpose(perm))
        gm = gm.reshape(o, m * lsp)
        for gi in range(g):
            acc[gi] += gm[gi * og:(gi + 1) * og] @ cols[gi * cg:(gi + 1) * cg].T
    gweight.reshape(acc.shape)[...] += dt.type(scale) * acc
    if gbias is not None:
        axes = (0,) + tuple(range(2, 2 + nd))
        gbias[...] += dt.type(scale) * gout.sum(axis=axes, dtype=dt)


def _ints(*vs):
    return tuple(int(v) for v in vs)


def conv2d_grad_input(gin, gout, weight, kW, kH, dW, dH, padW, padH, dilW=1, dilH=1, groups=1):
    """updateGradInput of SpatialConvolution(MM)/SpatialDilatedConvolution/cudnn's."""
    _conv_grad_input(gin, gout, weight, _ints(kH, kW), _ints(dH, dW), _ints(padH, padW),
                     _ints(dilH, dilW), groups)


def conv2d_acc_grad(gweight, gbias, x, gout, kW, kH, dW, dH, padW, padH, dilW=1, dilH=1,
                    groups=1, scale=1.0):
    _conv_acc_grad(gweight, gbias, x, gout, _ints(kH, kW), _ints(dH, dW), _ints(padH, padW),
                   _ints(dilH, dilW), groups, scale)


def conv3d_grad_input(gin, gout, weight, kT, kW, kH, dT, dW, dH, padT, padW, padH, groups=1,
                      dilT=1, dilW=1, dilH=1):
    _conv_grad_input(gin, gout, weight, _ints(kT, kH, kW), _ints(dT, dH, dW),
                     _ints(padT, padH, padW), _ints(dilT, dilH, dilW), groups)


def conv3d_acc_grad(gweight, gbias, x, gout, kT, kW, kH, dT, dW, dH, padT, padW, padH, groups=1,
                    dilT=1, dilW=1, dilH=1, scale=1.0):
    _conv_acc_grad(gweight, gbias, x, gout, _ints(kT, kH, kW), _ints(dT, dH, dW),
                   _ints(padT, padH, padW), _ints(dilT, dilH, dilW), groups, scale)


def _full_gout(gout, isize, ksize, stride, pad, dil):
    """gout placed where the transposed convolution's output sits in its uncropped
    result ((i - 1) * stride + dil * (k - 1) + 1 along each axis, the output starting at
    pad): what lies outside (padding cropped away; adj cells past the end) is zero."""
    ext = tuple((i - 1) * s + (k - 1) * d + 1 for i, s, k, d in zip(isize, stride, ksize, dil))
    full = np.zeros(gout.shape[:2] + ext, dtype=gout.dtype)
    src, dst = [], []
    for e, p, o in zip(ext, pad, gout.shape[2:]):
        m = min(o, e - p)
        src.append(slice(0, m))
        dst.append(slice(p, p + m))
    full[(slice(None), slice(None)) + tuple(dst)] = gout[(slice(None), slice(None)) + tuple(src)]
    return full


def _full_grad_input(gin, gout, weight, ksize, stride, pad, dil):
    """The transposed convolution's adjoint is the convolution itself: weight
    (C_in, C_out, *k) is a convolution weight mapping gout's C_out planes to C_in."""
    nd = len(ksize)
    gin, gout = _batched(gin, gout, nd)
    g = _full_gout(gout, gin.shape[2:], ksize, stride, pad, dil)
    _convnd(gin, g, weight, None, ksize, stride, (0,) * nd, dil, 1)


def _full_acc_grad(gweight, gbias, x, gout, ksize, stride, pad, dil, scale):
    """gweight[c, o, k] += scale * sum x[n, c, i] gout_full[n, o, i*s + k*d]: the
    convolution's weight gradient with input gout and output gradient x."""
    nd = len(ksize)
    x, gout = _batched(x, gout, nd)
    gbias = _opt(gbias)
    g = _full_gout(gout, x.shape[2:], ksize, stride, pad, dil)
    _conv_acc_grad(gweight, None, g, x, ksize, stride, (0,) * nd, dil, 1, scale)
    if gbias is not None:
        axes = (0,) + tuple(range(2, 2 + nd))
        gbias[...] += gbias.dtype.type(scale) * gout.sum(axis=axes, dtype=gbias.dtype)


def full_conv2d_grad_input(gin, gout, weight, kW, kH, dW, dH, padW, padH, dilW=1, dilH=1):
    _full_grad_input(gin, gout, weight, _ints(kH, kW), _ints(dH, dW), _ints(padH, padW),
                     _ints(dilH, dilW))


def full_conv2d_acc_grad(gweight, gbias, x, gout, kW, kH, dW, dH, padW, padH, dilW=1, dilH=1,
                         scale=1.0):
    _full_acc_grad(gweight, gbias, x, gout, _ints(kH, kW), _ints(dH, dW), _ints(padH, padW),
                   _ints(dilH, dilW), scale)


def full_conv3d_grad_input(gin, gout, weight, kT, kW, kH, dT, dW, dH, padT, padW, padH):
    _full_grad_input(gin, gout, weight, _ints(kT, kH, kW), _ints(dT, dH, dW),
                     _ints(padT, padH, padW), (1, 1, 1))


def full_conv3d_acc_grad(gweight, gbias, x, gout, kT, kW, kH, dT, dW, dH, padT, padW, padH,
                         scale=1.0):
    _full_acc_grad(gweight, gbias, x, gout, _ints(kT, kH, kW), _ints(dT, dH, dW),
                   _ints(padT, padH, padW), (1, 1, 1), scale)


def temporal_conv_grad_input(gin, gout, weight, kW, dW):
    """TemporalConvolution: gin (T, F) or (N, T, F) gets each window's W' gout added back."""
    kW, dW = int(kW), int(dW)
    if gin.ndim == 2:
        gin, gout = gin[None], gout[None]
    n, t, f = gin.shape
    ot = gout.shape[1]
    w = np.asarray(weight).reshape(-1, kW * f).astype(gin.dtype, copy=False)
    cols = (gout.astype(gin.dtype, copy=False) @ w).reshape(n, ot, kW, f)
    gin[...] = 0
    for k in range(kW):
        gin[:, k:k + (ot - 1) * dW + 1:dW] += cols[:, :, k]


def temporal_conv_acc_grad(gweight, gbias, x, gout, kW, dW, scale=1.0):
    kW, dW = int(kW), int(dW)
    if x.ndim == 2:
        x, gout = x[None], gout[None]
    n, t, f = x.shape
    ot = gout.shape[1]
    dt = gweight.dtype
    x = np.ascontiguousarray(x, dtype=dt)
    s = x.strides[2]
    win = _window(x, (n, ot, kW * f), (x.strides[0], dW * f * s, s)).reshape(n * ot, kW * f)
    gm = gout.reshape(n * ot, -1).astype(dt, copy=False)
    gweight.reshape(-1, kW * f)[...] += dt.type(scale) * (gm.T @ win)
    gbias = _opt(gbias)
    if gbias is not None:
        gbias[...] += dt.type(scale) * gm.sum(axis=0)


def _scatter_planes(gin, gout, indices):
    """gin (N, C, *in) := sum of gout at its 1-based flat positions (per plane); 0 = none."""
    n, c = gin.shape[:2]
    plane = math.prod(gin.shape[2:])
    idx = np.asarray(indices, dtype=np.int64).reshape(n * c, -1) - 1
    if idx.size and idx.max() >= plane:
        raise IndexError(f"max index {int(idx.max()) + 1} past the input plane of {plane} elements")
    keep = idx >= 0
    flat = idx + (np.arange(n * c, dtype=np.int64) * plane)[:, None]
    acc = np.bincount(flat[keep], weights=gout.reshape(n * c, -1)[keep].astype(np.float64),
                      minlength=n * c * plane)
    gin[...] = acc.reshape(gin.shape)


def _max_pool_grad_routed(gin, gout, x, out, ksize, stride, pad, dil):
    """Max pooling's gradInput from forward's output: window offsets are visited in
    row-major order and each gout goes to the first offset whose value equals the
    window's maximum (the index THNN records). Returns False (gin then undefined) when
    `out` is not the windows' maxima of x (modified in place since forward, or holding a
    NaN, of which THNN keeps the last): the index path handles those."""
    if np.isnan(out).any():
        return False
    isize, osize = gin.shape[2:], gout.shape[2:]
    xp = _pool_input(x, osize, ksize, stride, dil, pad, -np.inf)
    disjoint = all(s >= d * (k - 1) + 1 for k, s, d in zip(ksize, stride, dil))
    full = gin if xp.shape == gin.shape else np.zeros(gin.shape[:2] + xp.shape[2:], dtype=gin.dtype)
    if full is gin:
        gin[...] = 0
    taken = np.zeros(gout.shape, dtype=bool)
    hit = np.empty(gout.shape, dtype=bool)
    part = None if disjoint else np.empty(gout.shape, dtype=gin.dtype)
    for sl in _offset_slices(ksize, stride, dil, osize):
        sl = (slice(None), slice(None)) + sl
        np.greater(xp[sl], out, out=hit)
        if hit.any():
            return False
        np.equal(xp[sl], out, out=hit)
        hit &= ~taken
        taken |= hit
        if disjoint:
            np.multiply(gout, hit, out=full[sl], casting="unsafe")
        else:
            np.multiply(gout, hit, out=part, casting="unsafe")
            full[sl] += part
    if not taken.all():
        return False
    if full is not gin:
        gin[...] = _crop(full, pad, isize)
    return True


def max_pool_grad(gin, gout, x, ksize, stride, pad, dil, indices=None, out=None):
    """Max pooling's gradInput: each gout value to the input position its window's
    maximum came from (the indices forward saved; else found from forward's output
    `out`; else recomputed from x)."""
    nd = len(ksize)
    gin, gout = _batched(gin, gout, nd)
    x = x if x.ndim == gin.ndim else x[None]
    ksize, stride, pad, dil = (tuple(int(v) for v in a) for a in (ksize, stride, pad, dil))
    indices, out = _opt(indices), _opt(out)
    if indices is None and out is not None and out.size == gout.size:
        if _max_pool_grad_routed(gin, gout, x, out.reshape(gout.shape), ksize, stride, pad, dil):
            return
    if indices is None:
        indices = np.empty(gout.shape, dtype=np.int64)
        max_pool_indices(np.empty(gout.shape, dtype=gout.dtype), indices, x, ksize, stride, pad, dil)
    elif indices.ndim != gout.ndim:
        indices = indices[None]
    _scatter_planes(gin, gout, indices)


def max_pool2d_grad(gin, gout, x, kW, kH, dW, dH, padW, padH, dilW=1, dilH=1, indices=None, out=None):
    max_pool_grad(gin, gout, x, (kH, kW), (dH, dW), (padH, padW), (dilH, dilW), indices, out)


def max_pool3d_grad(gin, gout, x, kT, kW, kH, dT, dW, dH, padT, padW, padH, out=None,
                    dilT=1, dilW=1, dilH=1):
    """Volumetric(Dilated)MaxPooling's gradInput."""
    max_pool_grad(gin, gout, x, (kT, kH, kW), (dT, dH, dW), (padT, padH, padW), (dilT, dilH, dilW),
                  None, out)


def avg_pool_grad(gin, gout, ksize, stride, pad, include_pad, scale=None):
    """Average pooling's gradInput: gout / divisor spread over each window (the
    forward's divisor, padding counted or not), clipped back to the input."""
    nd = len(ksize)
    gin, gout = _batched(gin, gout, nd)
    ksize, stride, pad = (tuple(int(v) for v in a) for a in (ksize, stride, pad))
    osize = gout.shape[2:]
    isize = gin.shape[2:]
    div = np.ones((), dtype=np.int64)
    for axis, (size, o, k, s, p) in enumerate(zip(isize, osize, ksize, stride, pad)):
        d = _avg_divisor(size, o, k, s, p, bool(include_pad))
        div = div * d.reshape((-1,) + (1,) * (nd - 1 - axis))
    dt = gin.dtype
    g = gout.astype(dt) / div.astype(dt)
    if _opt(scale) is not None:
        g *= dt.type(scale)
    ext = [max(s + 2 * p, (o - 1) * st + k + p) for s, p, o, st, k in zip(isize, pad, osize, stride, ksize)]
    full = np.zeros(gin.shape[:2] + tuple(ext), dtype=dt)
    for sl in _offset_slices(ksize, stride, (1,) * nd, osize):
        full[(slice(None), slice(None)) + sl] += g
    gin[...] = _crop(full, pad, isize)


def avg_pool2d_grad(gin, gout, kW, kH, dW, dH, padW, padH, count_include_pad=True, scale=None):
    avg_pool_grad(gin, gout, (kH, kW), (dH, dW), (padH, padW), count_include_pad, scale)


def avg_pool3d_grad(gin, gout, kT, kW, kH, dT, dW, dH, padT, padW, padH, count_include_pad=True,
                    scale=None):
    avg_pool_grad(gin, gout, (kT, kH, kW), (dT, dH, dW), (padT, padH, padW), count_include_pad,
                  scale)


def adaptive_pool2d_grad(gin, gout, x, mode):
    """SpatialAdaptive{Max,Average}Pooling's gradInput: per bin, gout to the bin's first
    maximum, or gout / area spread over the bin (bins may overlap: contributions add)."""
    gin, gout = _batched(gin, gout, 2)
    x = x if x.ndim == 4 else x[None]
    n, c, h, w = gin.shape
    oh, ow = gout.shape[2:]
    hs, he = _adaptive_bounds(h, oh)
    ws, we = _adaptive_bounds(w, ow)
    dt = gin.dtype
    acc = np.zeros(gin.shape, dtype=dt)
    for i in range(oh):
        for j in range(ow):
            a, b, cc, d = hs[i], he[i], ws[j], we[j]
            if mode == "max":
                win = x[:, :, a:b, cc:d].reshape(n, c, -1)
                k = np.argmax(win, axis=2)
                nan = np.isnan(win)
                if nan.any():
                    # THNN keeps the last NaN it meets
                    last = win.shape[2] - 1 - np.argmax(nan[:, :, ::-1], axis=2)
                    k = np.where(nan.any(axis=2), last, k)
                r, q = np.divmod(k, d - cc)
                nn_, cc_ = np.meshgrid(np.arange(n), np.arange(c), indexing="ij")
                np.add.at(acc, (nn_, cc_, a + r, cc + q), gout[:, :, i, j])
            else:
                acc[:, :, a:b, cc:d] += (gout[:, :, i, j] / dt.type((b - a) * (d - cc)))[:, :, None, None]
    gin[...] = acc


def temporal_max_pool_grad(gin, gout, x, kW, dW):
    """TemporalMaxPooling's gradInput: gout to the frame of each window's first maximum."""
    kW, dW = int(kW), int(dW)
    if x.ndim == 2:
        x, gin, gout = x[None], gin[None], gout[None]
    n, t, f = x.shape
    ot = gout.shape[1]
    best = x[:, 0:(ot - 1) * dW + 1:dW].copy()
    arg = np.zeros(best.shape, dtype=np.int64)
    for k in range(1, kW):
        v = x[:, k:k + (ot - 1) * dW + 1:dW]
        m = v > best
        best[m] = v[m]
        arg[m] = k
    frame = arg + (np.arange(ot) * dW)[None, :, None]
    gin[...] = 0
    nn_, ff = np.meshgrid(np.arange(n), np.arange(f), indexing="ij")
    for o in range(ot):
        np.add.at(gin, (nn_, frame[:, o], ff), gout[:, o])


def batchnorm_grad(gin, gweight, gbias, x, gout, single, weight, running_mean, running_var,
                   save_mean, save_std, train, scale, eps):
    """BatchNormalization's backward, as THNN: in training the statistics are the batch's
    that forward saved (save_mean, save_std = 1/sqrt(var + eps)) and the gradient flows
    through them; in evaluation they are the running ones, constants. gin, gweight and
    gbias may each be None (updateGradInput and accGradParameters call it apart)."""
    gin, gweight, gbias, weight = (_opt(v) for v in (gin, gweight, gbias, weight))
    if single:
        x, gout = x[None], gout[None]
        if gin is not None:
            gin = gin[None]
    c = x.shape[1]
    axes = (0,) + tuple(range(2, x.ndim))
    shape = (1, c) + (1,) * (x.ndim - 2)
    cnt = x.size // c
    if train:
        mean = np.asarray(save_mean, dtype=np.float64).reshape(c)
        invstd = np.asarray(save_std, dtype=np.float64).reshape(c)
    else:
        mean = running_mean.astype(np.float64).reshape(c)
        invstd = 1.0 / np.sqrt(running_var.astype(np.float64).reshape(c) + float(eps))
    xc = x.astype(np.float64) - mean.reshape(shape)
    g64 = gout.astype(np.float64)
    gsum = g64.sum(axis=axes)
    dotp = (xc * g64).sum(axis=axes)
    if gin is not None:
        w = np.ones(c) if weight is None else weight.astype(np.float64).reshape(c)
        if train:
            k = dotp * invstd ** 2 / cnt
            res = (g64 - (gsum / cnt).reshape(shape) - xc * k.reshape(shape)) \
                * (invstd * w).reshape(shape)
        else:
            res = g64 * (invstd * w).reshape(shape)
        gin[...] = res
    if gweight is not None:
        gweight.reshape(c)[...] += float(scale) * dotp * invstd
    if gbias is not None:
        gbias.reshape(c)[...] += float(scale) * gsum


def _pad_map(n, before, after, mode):
    """Along one axis of pad2d: for each output position the input position it copies
    (-1 for a zero-padded one)."""
    idx = np.arange(n)[max(0, -before):n - max(0, -after)]
    b, a = max(0, before), max(0, after)
    if mode == "zero":
        return np.pad(idx, (b, a), constant_values=-1)
    return np.pad(idx, (b, a), mode="reflect" if mode == "reflect" else "edge")


def _one_hot(idx, n, dtype):
    m = np.zeros((len(idx), n), dtype=dtype)
    keep = idx >= 0
    m[np.nonzero(keep)[0], idx[keep]] = 1
    return m


def pad2d_grad(gin, gout, left, right, top, bottom, mode):
    """Spatial{Zero,Reflection,Replication}Padding's gradInput: every output cell's
    gradient back to the input cell it copied (reflected cells add up)."""
    h, w = gin.shape[-2:]
    mh = _one_hot(_pad_map(h, int(top), int(bottom), mode), h, gin.dtype)
    mw = _one_hot(_pad_map(w, int(left), int(right), mode), w, gin.dtype)
    gin[...] = mh.T @ gout.astype(gin.dtype, copy=False) @ mw


def upsample_nearest_grad(gin, gout, scale):
    """Each input pixel gets the sum of the scale x scale block it was copied to."""
    s = int(scale)
    h, w = gin.shape[-2:]
    gin[...] = gout.reshape(gout.shape[:-2] + (h, s, w, s)).sum(axis=(-3, -1))


def _bilinear_matrix(n1, n2, dt):
    """The (n2, n1) matrix of upsample_bilinear's interpolation along one axis."""
    if n1 == n2:
        return np.eye(n1, dtype=dt)
    i0, i1, l0, l1 = _bilinear_coords(n1, n2, dt)
    m = np.zeros((n2, n1), dtype=dt)
    rows = np.arange(n2)
    np.add.at(m, (rows, i0), l0)
    np.add.at(m, (rows, i1), l1)
    return m


def upsample_bilinear_grad(gin, gout):
    """SpatialUpSamplingBilinear's gradInput: the transposed interpolation."""
    h1, w1 = gin.shape[-2:]
    h2, w2 = gout.shape[-2:]
    dt = gin.dtype
    ah, aw = _bilinear_matrix(h1, h2, dt), _bilinear_matrix(w1, w2, dt)
    gin[...] = ah.T @ gout.astype(dt, copy=False) @ aw


def softmax_grad(gin, gout, out, axis, log=False):
    """(Log)SoftMax's gradInput from its output: y (g - sum g y) or g - exp(y) sum g."""
    if log:
        np.subtract(gout, np.exp(out) * gout.sum(axis=axis, keepdims=True), out=gin)
    else:
        np.multiply(out, gout - (gout * out).sum(axis=axis, keepdims=True), out=gin)


def softmax_flat_grad(gin, gout, out, single, log=False):
    if single:
        gin, gout, out = gin[None], gout[None], out[None]
    n = gin.shape[0]
    res = np.empty((n, gin[0].size), dtype=gin.dtype)
    softmax_grad(res, gout.reshape(n, -1), out.reshape(n, -1), 1, log)
    gin[...] = res.reshape(gin.shape)


def cross_map_lrn_grad(gin, gout, x, size, alpha, beta, k, before, after):
    """SpatialCrossMapLRN's gradInput. With s_c = k + alpha/size sum_{c-before..c+after}
    x^2 and y = x s^-beta: gin_j = g_j s_j^-beta - 2 alpha beta / size x_j
    sum_{c = j-after..j+before} g_c x_c s_c^(-beta-1)."""
    x, gin = _batched(x, gin, 2)
    gout = gout if gout.ndim == x.ndim else gout[None]
    n, c = x.shape[:2]
    before, after = int(before), int(after)
    dt = gin.dtype
    x64, g64 = x.astype(np.float64), gout.astype(np.float64)
    sq = np.zeros((n, c + before + after) + x.shape[2:])
    sq[:, before:before + c] = x64 ** 2
    scale = sum(sq[:, d:d + c] for d in range(before + after + 1))
    scale = k + alpha / size * scale
    t = np.zeros((n, c + before + after) + x.shape[2:])
    t[:, after:after + c] = g64 * x64 * scale ** (-beta - 1)
    win = sum(t[:, d:d + c] for d in range(before + after + 1))
    gin[...] = (g64 * scale ** -beta - 2.0 * alpha * beta / size * x64 * win).astype(dt)


def channel_dropout_grad(gin, gout, noise, batch_dims, keep, train):
    """Spatial/VolumetricDropout's gradInput: gout times the channel's mask (training)
    or times 1 - p (evaluation)."""
    if train:
        lead = gin.shape[:int(batch_dims)]
        m = np.asarray(noise, dtype=gin.dtype).reshape(lead + (1,) * (gin.ndim - len(lead)))
        np.multiply(gout, m, out=gin)
    else:
        np.multiply(gout, gin.dtype.type(keep), out=gin)


def pixel_shuffle_grad(gin, gout, r):
    """PixelShuffle's gradInput: pixel_shuffle undone, (N, C, H*r, W*r) -> (N, C*r*r, H, W)."""
    g, o, nl = _pixel_views(gin, gout, int(r))
    g[...] = o.transpose(tuple(range(nl)) + tuple(nl + i for i in (0, 2, 4, 1, 3)))


def subsampling2d_grad_input(gin, gout, weight, kW, kH, dW, dH):
    """SpatialSubSampling's gradInput: each plane's gout times its weight, spread over the
    window it summed."""
    gin, gout = _batched(gin, gout, 2)
    c = gin.shape[1]
    g = gout * np.asarray(weight).reshape(1, c, 1, 1).astype(gin.dtype, copy=False)
    avg_pool_grad(gin, g, (kH, kW), (dH, dW), (0, 0), True, int(kW) * int(kH))


def subsampling2d_acc_grad(gweight, gbias, x, gout, kW, kH, dW, dH, scale=1.0):
    """gweight[c] += scale * sum gout * (window sums of x); gbias[c] += scale * sum gout."""
    x, gout = _batched(x, gout, 2)
    sums = np.empty(gout.shape, dtype=np.float64)
    avg_pool(sums, x.astype(np.float64), (kH, kW), (dH, dW), (0, 0), True, int(kW) * int(kH))
    g64 = gout.astype(np.float64)
    gweight.reshape(-1)[...] += float(scale) * (g64 * sums).sum(axis=(0, 2, 3))
    gbias.reshape(-1)[...] += float(scale) * g64.sum(axis=(0, 2, 3))


def temporal_subsampling_grad_input(gin, gout, weight, kW, dW):
    """TemporalSubSampling's gradInput: gout[t, f] * weight[f] back to the kW frames of
    window t."""
    kW, dW = int(kW), int(dW)
    if gin.ndim == 2:
        gin, gout = gin[None], gout[None]
    ot = gout.shape[1]
    g = gout * np.asarray(weight).astype(gin.dtype, copy=False)
    gin[...] = 0
    for k in range(kW):
        gin[:, k:k + (ot - 1) * dW + 1:dW] += g


def temporal_subsampling_acc_grad(gweight, gbias, x, gout, kW, dW, scale=1.0):
    """gweight[f] += scale * sum_t gout[t, f] * (sum of window t of x); gbias += scale * sum gout."""
    kW, dW = int(kW), int(dW)
    if x.ndim == 2:
        x, gout = x[None], gout[None]
    ot = gout.shape[1]
    sums = np.zeros(gout.shape, dtype=np.float64)
    for k in range(kW):
        sums += x[:, k:k + (ot - 1) * dW + 1:dW]
    g64 = gout.astype(np.float64)
    gweight.reshape(-1)[...] += float(scale) * (g64 * sums).sum(axis=(0, 1))
    gbias.reshape(-1)[...] += float(scale) * g64.sum(axis=(0, 1))


def conv_map2d_grad_input(gin, gout, conn, weight, kW, kH, dW, dH):
    """SpatialConvolutionMap's gradInput: the dense convolution's."""
    kW, kH = int(kW), int(kH)
    dense, _ = _conn_dense(conn, weight, gout.shape[-3], gin.shape[-3], kH, kW, gin.dtype)
    conv2d_grad_input(gin, gout, dense, kW, kH, dW, dH, 0, 0)


def conv_map2d_acc_grad(gweight, gbias, x, gout, conn, kW, kH, dW, dH, scale=1.0):
    """The dense convolution's weight gradient, read back at each connection."""
    kW, kH = int(kW), int(kH)
    dense, conn = _conn_dense(conn, np.zeros(gweight.shape), gout.shape[-3], x.shape[-3], kH, kW,
                              gweight.dtype)
    conv2d_acc_grad(dense, gbias, x, gout, kW, kH, dW, dH, 0, 0, scale=scale)
    gweight.reshape(-1, kH, kW)[...] += dense[conn[:, 1], conn[:, 0]]


def max_unpool2d_grad(gin, gout, indices):
    """SpatialMaxUnpooling's gradInput: each input cell takes the gout at the position
    (1-based, per plane) forward put it."""
    gin, gout = _batched(gin, gout, 2)
    indices = indices if indices.ndim == 4 else indices[None]
    n, c = gin.shape[:2]
    plane = gout.shape[2] * gout.shape[3]
    idx = np.asarray(indices, dtype=np.int64).reshape(n * c, -1) - 1
    if idx.size and (idx.min() < 0 or idx.max() >= plane):
        bad = idx.min() if idx.min() < 0 else idx.max()
        raise IndexError(f"invalid max index {int(bad) + 1}, owidth= {gout.shape[3]}, "
                         f"oheight= {gout.shape[2]}")
    g = np.take_along_axis(gout.reshape(n * c, plane), idx, axis=1)
    gin[...] = g.reshape(gin.shape)


def local_normalize_grad(gin, gout, x, kernel, mode, threshold=0.0, thresval=0.0):
    """Spatial{Subtractive,Divisive}Normalization's gradInput (see local_normalize).
    subtractive, y = x - m with m = conv(sum_c x) / coef: gin = g - convT(sum_c g / coef).
    divisive, y = x / t with t = thr(a), a = sqrt(v) / coef, v = conv(sum_c x^2):
    gin = g / t + 2 x convT(dE/dv), dE/dv = -(sum_c g x) / t^2 [a > threshold] / (2 sqrt(v) coef)
    (0 where v = 0, as nn.Sqrt's gradient)."""
    x, gin = _batched(x, gin, 2)
    gout = gout if gout.ndim == 4 else gout[None]
    n, c, h, w = x.shape
    kn, coef = _local_kernel(kernel, c, h, w)
    x64, g64 = x.astype(np.float64), gout.astype(np.float64)
    if mode == "subtractive":
        back = _local_conv_t(g64.sum(axis=1) / coef, kn)
        gin[...] = (g64 - back[:, None]).astype(gin.dtype)
        return
    root = np.sqrt(_local_conv(np.square(x64).sum(axis=1), kn))
    a = root / coef
    t = np.where(a > threshold, a, thresval)
    dt = -(g64 * x64).sum(axis=1) / t ** 2
    with np.errstate(divide="ignore", invalid="ignore"):
        dv = np.where((a > threshold) & (root > 0), dt / (2 * root * coef), 0.0)
    gin[...] = (g64 / t[:, None] + 2 * x64 * _local_conv_t(dv, kn)[:, None]).astype(gin.dtype)


# ----------------------------------------------------------------------------
# locally connected, depth-wise and mapped transposed convolutions; fractional and
# unpooled volumes; row convolutions, feature LP pooling, volumetric resampling
# ----------------------------------------------------------------------------

def _local_cols(x, kH, kW, dH, dW, padH, padW, oH, oW):
    """SpatialConvolutionLocal's columns: (oH*oW, N, C*kH*kW), a copy of the windows of
    the zero-padded x (N, C, H, W) at each output position."""
    xp = _pad(x, [(padH, padH), (padW, padW)], 0)
    n, c = xp.shape[:2]
    st = xp.strides
    win = _window(xp, (oH, oW, n, c, kH, kW),
                  (st[2] * dH, st[3] * dW, st[0], st[1], st[2], st[3]))
    return np.ascontiguousarray(win).reshape(oH * oW, n, c * kH * kW)


def conv_local2d(out, x, weight, bias, kW, kH, dW, dH, padW, padH):
    """SpatialConvolutionLocal: an unshared kernel per output position.
    out[n, o, h, w] = bias[o, h, w] + sum_{c,i,j} weight[h, w, o, c, i, j]
    * xpad[n, c, h*dH + i, w*dW + j]; weight holds oH*oW*O*C*kH*kW values in that order."""
    kW, kH, dW, dH, padW, padH = _ints(kW, kH, dW, dH, padW, padH)
    x, out = _batched(x, out, 2)
    n, o, oH, oW = out.shape
    dt = out.dtype
    cols = _local_cols(x.astype(dt, copy=False), kH, kW, dH, dW, padH, padW, oH, oW)
    w = np.asarray(weight, dtype=dt).reshape(oH * oW, o, -1)
    res = np.matmul(cols, w.transpose(0, 2, 1))            # (L, N, O)
    out[...] = res.transpose(1, 2, 0).reshape(n, o, oH, oW)
    bias = _opt(bias)
    if bias is not None:
        out += np.asarray(bias, dtype=dt).reshape(1, o, oH, oW)


def conv_local2d_grad_input(gin, gout, weight, kW, kH, dW, dH, padW, padH):
    """SpatialConvolutionLocal's gradInput: each position's W' gout spread back over the
    window it read (the padding cropped away)."""
    kW, kH, dW, dH, padW, padH = _ints(kW, kH, dW, dH, padW, padH)
    gin, gout = _batched(gin, gout, 2)
    n, c, h, w_ = gin.shape
    o, oH, oW = gout.shape[1:]
    dt = gin.dtype
    w = np.asarray(weight, dtype=dt).reshape(oH * oW, o, c, kH, kW)
    g = gout.astype(dt, copy=False).reshape(n, o, oH * oW).transpose(2, 0, 1)    # (L, N, O)
    cols = np.matmul(g, w.reshape(oH * oW, o, -1)).reshape(oH, oW, n, c, kH, kW)
    full = np.zeros((n, c, h + 2 * padH, w_ + 2 * padW), dtype=dt)
    for i in range(kH):
        for j in range(kW):
            full[:, :, i:i + (oH - 1) * dH + 1:dH, j:j + (oW - 1) * dW + 1:dW] += \
                cols[:, :, :, :, i, j].transpose(2, 3, 0, 1)
    gin[...] = full[:, :, padH:padH + h, padW:padW + w_]


def conv_local2d_acc_grad(gweight, gbias, x, gout, kW, kH, dW, dH, padW, padH, scale=1.0):
    """gweight[h, w] += scale * gout[:, :, h, w]' cols(h, w); gbias += scale * sum_n gout."""
    kW, kH, dW, dH, padW, padH = _ints(kW, kH, dW, dH, padW, padH)
    x, gout = _batched(x, gout, 2)
    n, o, oH, oW = gout.shape
    dt = gweight.dtype
    cols = _local_cols(x.astype(dt, copy=False), kH, kW, dH, dW, padH, padW, oH, oW)
    g = gout.astype(dt, copy=False).reshape(n, o, oH * oW).transpose(2, 1, 0)    # (L, O, N)
    gweight.reshape(oH * oW, o, -1)[...] += dt.type(scale) * np.matmul(g, cols)
    gbias = _opt(gbias)
    if gbias is not None:
        gbias.reshape(o, oH, oW)[...] += dt.type(scale) * gout.sum(axis=0, dtype=dt)


def _conn_full_dense(conn, weight, c, o, kH, kW, dtype):
    """SpatialFullConvolutionMap's connections as a dense transposed-convolution weight
    (c, o, kH, kW), zero where there is no connection; and the 0-based (input, output)
    planes of each connection."""
    conn = np.asarray(conn).astype(np.int64).reshape(-1, 2) - 1
    if conn.size and (conn.min() < 0 or conn[:, 0].max() >= c or conn[:, 1].max() >= o):
        raise IndexError(f"connection table entries must lie in 1..{c} (input) and 1..{o} "
                         f"(output), got {(conn + 1).tolist()}")
    dense = np.zeros((c, o, kH, kW), dtype=dtype)
    np.add.at(dense, (conn[:, 0], conn[:, 1]), np.asarray(weight, dtype=dtype).reshape(-1, kH, kW))
    return dense, conn


def full_conv_map2d(out, x, conn, weight, bias, dW, dH):
    """SpatialFullConvolutionMap: connection k adds the full (transposed) convolution of
    input plane conn[k, 0] with weight[k] (not flipped, stride dH x dW) to output plane
    conn[k, 1] (1-based); output planes start at their bias."""
    kH, kW = weight.shape[-2:]
    x, out = _batched(x, out, 2)
    dense, _ = _conn_full_dense(conn, weight, x.shape[1], out.shape[1], kH, kW, out.dtype)
    _full_convnd(out, x, dense, bias, (kH, kW), _ints(dH, dW), (0, 0), (1, 1))


def full_conv_map2d_grad_input(gin, gout, conn, weight, dW, dH):
    kH, kW = weight.shape[-2:]
    gin, gout = _batched(gin, gout, 2)
    dense, _ = _conn_full_dense(conn, weight, gin.shape[1], gout.shape[1], kH, kW, gin.dtype)
    _full_grad_input(gin, gout, dense, (kH, kW), _ints(dH, dW), (0, 0), (1, 1))


def full_conv_map2d_acc_grad(gweight, gbias, x, gout, conn, dW, dH, scale=1.0):
    """The dense transposed convolution's gradients, read back at each connection."""
    kH, kW = gweight.shape[-2:]
    x, gout = _batched(x, gout, 2)
    dense, conn = _conn_full_dense(conn, np.zeros(gweight.shape), x.shape[1], gout.shape[1], kH, kW,
                                   gweight.dtype)
    _full_acc_grad(dense, gbias, x, gout, (kH, kW), _ints(dH, dW), (0, 0), (1, 1), scale)
    gweight.reshape(-1, kH, kW)[...] += dense[conn[:, 0], conn[:, 1]]


def _depthwise_weight(weight, o, c, kH, kW, dtype):
    """SpatialDepthWiseConvolution's weight (O, C, kH, kW) as a grouped convolution's
    (C*O, 1, kH, kW): output plane c*O + o sees input plane c through weight[o, c]."""
    return np.asarray(weight, dtype=dtype).reshape(o, c, kH, kW).transpose(1, 0, 2, 3).reshape(c * o, 1, kH, kW)


def depthwise_conv2d(out, x, weight, bias, kW, kH, dW, dH, padW, padH):
    """SpatialDepthWiseConvolution: every input plane c convolved with each of its O
    kernels weight[o, c] (+ bias[o, c]); output planes ordered c*O + o, as THNN lays out
    its (C, O, oH, oW) result."""
    kW, kH = _ints(kW, kH)
    c = x.shape[-3]
    o = out.shape[-3] // c
    dt = out.dtype
    b = _opt(bias)
    if b is not None:
        b = np.asarray(b, dtype=dt).reshape(o, c).T.reshape(-1)
    _convnd(out, x, _depthwise_weight(weight, o, c, kH, kW, dt), b, (kH, kW), _ints(dH, dW),
            _ints(padH, padW), (1, 1), c)


def depthwise_conv2d_grad_input(gin, gout, weight, kW, kH, dW, dH, padW, padH):
    kW, kH = _ints(kW, kH)
    c = gin.shape[-3]
    o = gout.shape[-3] // c
    _conv_grad_input(gin, gout, _depthwise_weight(weight, o, c, kH, kW, gin.dtype), (kH, kW),
                     _ints(dH, dW), _ints(padH, padW), (1, 1), c)


def depthwise_conv2d_acc_grad(gweight, gbias, x, gout, kW, kH, dW, dH, padW, padH, scale=1.0):
    kW, kH = _ints(kW, kH)
    c = x.shape[-3]
    o = gout.shape[-3] // c
    dt = gweight.dtype
    gw = np.zeros((c * o, 1, kH, kW), dtype=dt)
    gbias = _opt(gbias)
    gb = None if gbias is None else np.zeros(c * o, dtype=dt)
    _conv_acc_grad(gw, gb, x, gout, (kH, kW), _ints(dH, dW), _ints(padH, padW), (1, 1), c, scale)
    gweight.reshape(o, c, kH, kW)[...] += gw.reshape(c, o, kH, kW).transpose(1, 0, 2, 3)
    if gbias is not None:
        gbias.reshape(o, c)[...] += gb.reshape(c, o).T


def _fractional_starts(samples, isize, osize, pool, dtype):
    """Window starts along one axis for each plane's sample u in [0, 1), as THNN computes
    them in the tensor's precision: alpha = (in - pool) / (out - 1),
    start_i = trunc((i + u) * alpha) - trunc(u * alpha), the last window ending the axis."""
    u = np.asarray(samples, dtype=dtype).reshape(-1, 1)
    starts = np.empty((u.shape[0], osize), dtype=np.int64)
    if osize > 1:
        alpha = dtype.type(isize - pool) / dtype.type(osize - 1)
        i = np.arange(osize - 1, dtype=dtype)[None, :]
        starts[:, :-1] = ((i + u) * alpha).astype(np.int64) - (u * alpha).astype(np.int64)
    starts[:, -1] = isize - pool
    return starts


def fractional_max_pool(out, indices, x, samples, *pool):
    """Spatial/VolumetricFractionalMaxPooling over the trailing len(pool) axes of x
    (N, C, *in) or (C, *in): per plane, pseudo-random overlapping windows of size pool
    placed by samples (N, C, nd), axis a using sample nd-1-a (THNN's order: W then H, or
    T, W, H for the (H, W, T) volumes). Each output is its window's first maximum in
    row-major order (NaN never wins); indices get its 1-based flat position in the plane."""
    pool = tuple(int(p) for p in pool)
    nd = len(pool)
    x, out = _batched(x, out, nd)
    indices = indices if indices.ndim == out.ndim else indices[None]
    n, c = x.shape[:2]
    isize, osize = x.shape[2:], out.shape[2:]
    for a in range(nd):
        if osize[a] + pool[a] - 1 >= isize[a]:
            raise ValueError(f"pool size {pool[a]} too large relative to input size {isize[a]} "
                             f"along axis {a} for {osize[a]} outputs")
    s = np.asarray(samples).reshape(n * c, nd)
    if s.size and (s.min() < 0 or s.max() >= 1):
        raise ValueError(f"fractional pooling samples must lie in [0, 1), got [{s.min()}, {s.max()}]")
    dt = np.dtype(out.dtype)
    planes = x.reshape(n * c, -1)
    flat = np.zeros((n * c,) + tuple(osize) + pool, dtype=np.int64)
    for a in range(nd):
        st = _fractional_starts(s[:, nd - 1 - a], isize[a], osize[a], pool[a], dt)
        pos = st.reshape((n * c,) + (1,) * a + (osize[a],) + (1,) * (nd - 1 - a) + (1,) * nd) \
            + np.arange(pool[a]).reshape((1,) * (1 + nd + a) + (pool[a],) + (1,) * (nd - 1 - a))
        flat = flat * isize[a] + pos
    flat = flat.reshape(n * c, -1, math.prod(pool))
    vals = np.take_along_axis(planes, flat.reshape(n * c, -1), axis=1).reshape(flat.shape)
    best = np.argmax(np.where(np.isnan(vals), -np.inf, vals), axis=2)[..., None]
    out[...] = np.take_along_axis(vals, best, axis=2).reshape(out.shape)
    indices[...] = (np.take_along_axis(flat, best, axis=2) + 1).reshape(indices.shape)


def fractional_max_pool_grad(gin, gout, indices, nd):
    """Fractional max pooling's gradInput: each gout to its recorded input position
    (windows overlap: contributions add)."""
    nd = int(nd)
    gin, gout = _batched(gin, gout, nd)
    _scatter_planes(gin, gout, indices.reshape(gout.shape))


def _pack_offsets(indices, flat, osize, isize, stride, pad, dil):
    """THNN's volumetric max-pooling indices: for each output its window tap along T, H
    and W as three bytes of one long (t | h << 8 | w << 16), from the 1-based flat input
    positions `flat`."""
    rest = flat - 1
    coords = []
    for size in isize[::-1]:
        coords.append(rest % size)
        rest = rest // size
    coords = coords[::-1]
    packed = np.zeros(flat.shape, dtype=np.int64)
    for a in range(3):
        start = (np.arange(osize[a]) * stride[a] - pad[a]).reshape((-1,) + (1,) * (2 - a))
        packed |= ((coords[a] - start) // dil[a]) << (8 * a)
    indices[...] = packed


def packed_indices_from_bytes(indices, saved):
    """Volumetric max-pooling indices in a float or double tensor, as longs. Torch7 of 2016
    packed the window taps t, h, w into the first three bytes of each element (THNN wrote
    them through an unsigned char pointer: a tiny denormal number); a type conversion of
    the long indices (Torch7's and sparktorch7's :float()) keeps their integer values."""
    flat = np.ascontiguousarray(saved).reshape(-1)
    raw = flat.view(np.uint8).reshape(flat.size, flat.itemsize)
    taps = raw[:, :3].astype(np.int64)
    packed = taps[:, 0] | (taps[:, 1] << 8) | (taps[:, 2] << 16)
    whole = np.isfinite(flat) & (flat == np.floor(flat))
    indices.reshape(-1)[...] = np.where(whole, np.where(whole, flat, 0).astype(np.int64), packed)


def max_pool3d_indices(out, indices, x, kT, kW, kH, dT, dW, dH, padT, padW, padH,
                       dilT=1, dilW=1, dilH=1):
    """Volumetric(Dilated)MaxPooling with Torch7's indices (see _pack_offsets), which
    nn.VolumetricMaxUnpooling reads."""
    ksize, stride = _ints(kT, kH, kW), _ints(dT, dH, dW)
    pad, dil = _ints(padT, padH, padW), _ints(dilT, dilH, dilW)
    x, out = _batched(x, out, 3)
    indices = indices if indices.ndim == out.ndim else indices[None]
    flat = np.empty(out.shape, dtype=np.int64)
    max_pool_indices(out, flat, x, ksize, stride, pad, dil)
    _pack_offsets(indices, flat, out.shape[2:], x.shape[2:], stride, pad, dil)


def _unpack_positions(indices, isize, osize, stride, pad):
    """The flat 0-based output position of each max that Torch7's packed volumetric
    indices (window taps t, h, w in the low three bytes) point at."""
    idx = np.asarray(indices).astype(np.int64)
    flat = np.zeros(idx.shape, dtype=np.int64)
    for a in range(3):
        tap = (idx >> (8 * a)) & 0xFF
        start = (np.arange(isize[a]) * stride[a] - pad[a]).reshape((-1,) + (1,) * (2 - a))
        pos = start + tap
        bad = (pos < 0) | (pos >= osize[a])
        if bad.any():
            raise IndexError(f"found an invalid max index (a window tap {int(tap[bad].flat[0])} "
                             f"outside output volumes of size {'x'.join(map(str, osize))})")
        flat = flat * osize[a] + pos
    return flat


def max_unpool3d(out, x, indices, dT, dW, dH, padT, padW, padH):
    """VolumetricMaxUnpooling: zeros, and each input value where its pooled maximum came
    from (Torch7's packed indices of nn.VolumetricMaxPooling)."""
    x, out = _batched(x, out, 3)
    n, c = x.shape[:2]
    pos = _unpack_positions(indices.reshape(x.shape), x.shape[2:], out.shape[2:],
                            _ints(dT, dH, dW), _ints(padT, padH, padW))
    flat = np.zeros((n * c, math.prod(out.shape[2:])), dtype=out.dtype)
    np.put_along_axis(flat, pos.reshape(n * c, -1), x.reshape(n * c, -1), axis=1)
    out[...] = flat.reshape(out.shape)


def max_unpool3d_grad(gin, gout, indices, dT, dW, dH, padT, padW, padH):
    gin, gout = _batched(gin, gout, 3)
    n, c = gin.shape[:2]
    pos = _unpack_positions(indices.reshape(gin.shape), gin.shape[2:], gout.shape[2:],
                            _ints(dT, dH, dW), _ints(padT, padH, padW))
    g = np.take_along_axis(gout.reshape(n * c, -1), pos.reshape(n * c, -1), axis=1)
    gin[...] = g.reshape(gin.shape)


def _pad_nd(out, x, pads, mode):
    """out := x padded (or cropped, negative pads) on its trailing len(pads) axes, each
    output cell copying the input cell _pad_map gives it (zero where it gives -1)."""
    nd = len(pads)
    maps = [_pad_map(size, int(a), int(b), mode)
            for size, (a, b) in zip(x.shape[-nd:], pads)]
    grids = np.ix_(*maps)
    res = x[(Ellipsis,) + tuple(np.where(g < 0, 0, g) for g in grids)]
    if mode == "zero":
        hole = np.zeros((), dtype=bool)
        for g in grids:
            hole = hole | (g < 0)
        res = np.where(hole, 0, res)
    out[...] = res


def _pad_nd_grad(gin, gout, pads, mode):
    """The adjoint of _pad_nd: each output cell's gradient back to the input cell it copied."""
    nd = len(pads)
    res = gout.astype(gin.dtype, copy=False)
    for a, (size, (b, e)) in enumerate(zip(gin.shape[-nd:], pads)):
        m = _one_hot(_pad_map(size, int(b), int(e), mode), size, gin.dtype)
        res = np.moveaxis(np.tensordot(res, m, axes=([res.ndim - nd + a], [0])), -1, res.ndim - nd + a)
    gin[...] = res


def pad3d(out, x, left, right, top, bottom, front, back, mode):
    """Volumetric{Replication,...}Padding on the last three axes (T, H, W)."""
    _pad_nd(out, x, ((front, back), (top, bottom), (left, right)), mode)


def pad3d_grad(gin, gout, left, right, top, bottom, front, back, mode):
    _pad_nd_grad(gin, gout, ((front, back), (top, bottom), (left, right)), mode)


def row_conv(out, x, weight, bias, kW, dW, feat_first):
    """TemporalRowConvolution: every feature row convolved with its own kernel,
    out[f, t] = bias[f] + sum_k weight[f, k] * x[f, t*dW + k], x (F, T) when feat_first,
    else (T, F) (out then (T', F)); a leading batch axis is optional."""
    kW, dW = _ints(kW, dW)
    xt = x if feat_first else np.swapaxes(x, -1, -2)
    ot = out if feat_first else np.swapaxes(out, -1, -2)
    f, t = xt.shape[-2:]
    n_out = ot.shape[-1]
    dt = out.dtype
    st = xt.strides
    win = _window(xt, xt.shape[:-1] + (n_out, kW), st[:-1] + (st[-1] * dW, st[-1]))
    w = np.asarray(weight, dtype=dt).reshape(f, kW)
    res = np.einsum("...ftk,fk->...ft", win, w)
    bias = _opt(bias)
    if bias is not None:
        res += np.asarray(bias, dtype=dt).reshape(f, 1)
    ot[...] = res


def row_conv_grad_input(gin, gout, weight, kW, dW, feat_first):
    kW, dW = _ints(kW, dW)
    gt = gin if feat_first else np.swapaxes(gin, -1, -2)
    go = gout if feat_first else np.swapaxes(gout, -1, -2)
    f = gt.shape[-2]
    n_out = go.shape[-1]
    w = np.asarray(weight, dtype=gin.dtype).reshape(f, kW)
    acc = np.zeros(gt.shape, dtype=gin.dtype)
    for k in range(kW):
        acc[..., k:k + (n_out - 1) * dW + 1:dW] += go * w[:, k:k + 1]
    gt[...] = acc


def row_conv_acc_grad(gweight, gbias, x, gout, kW, dW, feat_first, scale=1.0):
    kW, dW = _ints(kW, dW)
    xt = x if feat_first else np.swapaxes(x, -1, -2)
    go = gout if feat_first else np.swapaxes(gout, -1, -2)
    f = xt.shape[-2]
    n_out = go.shape[-1]
    dt = gweight.dtype
    lead = tuple(range(xt.ndim - 2))
    g = np.zeros((f, kW), dtype=dt)
    for k in range(kW):
        g[:, k] = (go * xt[..., k:k + (n_out - 1) * dW + 1:dW]).sum(axis=lead + (xt.ndim - 1,))
    gweight.reshape(f, kW)[...] += dt.type(scale) * g
    gbias = _opt(gbias)
    if gbias is not None:
        gbias.reshape(f)[...] += dt.type(scale) * go.sum(axis=lead + (go.ndim - 1,), dtype=dt)


def _lp_view(t, batch):
    """FeatureLPPooling's (batch, feature, opt1, opt2) view of a 1-4 dim tensor."""
    shape = t.shape if batch else (1,) + t.shape
    return t.reshape(shape + (1,) * (4 - len(shape)))


def feature_lp_pool(out, x, power, width, stride, batch):
    """FeatureLPPooling: out[f] = (sum_{i < width} x[f*stride + i]^p)^(1/p) along the
    feature axis (the first, or the second in batch mode), in double as THNN's accreal."""
    width, stride, p = int(width), int(stride), float(power)
    xv = _lp_view(x, batch).astype(np.float64)
    ov = _lp_view(out, batch)
    n_out = ov.shape[1]
    acc = np.zeros(ov.shape, dtype=np.float64)
    for i in range(width):
        acc += np.power(xv[:, i:i + (n_out - 1) * stride + 1:stride], p)
    ov[...] = np.power(acc, 1.0 / p)


def feature_lp_pool_grad(gin, gout, x, out, power, width, stride, batch):
    """FeatureLPPooling's gradInput: gout * (x / out)^(p - 1) back to each pooled input,
    nothing from an output of 0 (THNN skips those)."""
    width, stride, p = int(width), int(stride), float(power)
    xv = _lp_view(x, batch).astype(np.float64)
    ov = _lp_view(out, batch).astype(np.float64)
    gv = _lp_view(gout, batch).astype(np.float64)
    n_out = ov.shape[1]
    live = ov != 0
    safe = np.where(live, ov, 1.0)
    acc = np.zeros(xv.shape, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        for i in range(width):
            sl = slice(i, i + (n_out - 1) * stride + 1, stride)
            acc[:, sl] += np.where(live, gv * np.power(xv[:, sl] / safe, p - 1.0), 0.0)
    _lp_view(gin, batch)[...] = acc


def upsample_nearest3d(out, x, scale):
    """Each voxel repeated scale times along each of the last three axes."""
    s = int(scale)
    t, h, w = x.shape[-3:]
    view = out.reshape(out.shape[:-3] + (t, s, h, s, w, s))
    view[...] = x[..., :, None, :, None, :, None]


def upsample_nearest3d_grad(gin, gout, scale):
    s = int(scale)
    t, h, w = gin.shape[-3:]
    gin[...] = gout.reshape(gout.shape[:-3] + (t, s, h, s, w, s)).sum(axis=(-5, -3, -1))


def upsample_trilinear(out, x):
    """Torch7's trilinear up-sampling (corner-aligned, float32 source coordinates as THNN),
    one axis at a time."""
    dt = out.dtype
    res = x.astype(dt, copy=False)
    for a in range(3):
        axis = res.ndim - 3 + a
        n1, n2 = res.shape[axis], out.shape[axis]
        if n1 == n2:
            continue
        i0, i1, l0, l1 = _bilinear_coords(n1, n2, dt)
        shape = (-1,) + (1,) * (2 - a)
        res = np.take(res, i0, axis=axis) * l0.reshape(shape) + np.take(res, i1, axis=axis) * l1.reshape(shape)
    out[...] = res


def upsample_trilinear_grad(gin, gout):
    """VolumetricUpSamplingTrilinear's gradInput: the transposed interpolation per axis."""
    dt = gin.dtype
    res = gout.astype(dt, copy=False)
    for a in range(3):
        axis = res.ndim - 3 + a
        m = _bilinear_matrix(gin.shape[axis], res.shape[axis], dt)
        res = np.moveaxis(np.tensordot(res, m, axes=([axis], [0])), -1, axis)
    gin[...] = res
