"""NumPy references for the spatial tests: convolutions, poolings, resampling.

Written from the definitions (and, where Torch7 has its own rule, from Torch7's THNN
sources), independent of sparktorch7's kernels (`sparktorch7/_nn_ops.py`), so that the
spatial tests need no PyTorch. Signatures follow `torch.nn.functional`: sizes, strides and
paddings are ints or tuples in (T,) H, W order, tensors are (N, C, ...) or one sample
(C, ...). Each function computes in float64 and returns the input's dtype.

Clarity first: every kernel offset is one vectorised step (a strided slice of the padded
input), output positions are never looped over except in the adaptive poolings.
"""
import itertools

import numpy as np


def _tuple(v, n):
    return tuple(v) if isinstance(v, (tuple, list)) else (v,) * n


def _batch(x, nd):
    """(x as float64 with a batch axis, whether the caller passed one sample)."""
    x = np.asarray(x)
    if x.ndim == nd + 1:
        return x[None].astype(np.float64), True
    if x.ndim != nd + 2:
        raise ValueError(f"expected a {nd + 1}-D or {nd + 2}-D array, got shape {x.shape}")
    return x.astype(np.float64), False


def _result(out, single, dtype):
    return (out[0] if single else out).astype(dtype)


def _window(offset, dil, stride, osize):
    """Slice of the padded input that kernel element `offset` reads for outputs 0..osize-1."""
    start = offset * dil
    return slice(start, start + (osize - 1) * stride + 1, stride)


def _offsets(ksize):
    return itertools.product(*(range(k) for k in ksize))


# --- convolutions -----------------------------------------------------------------------

def _conv(x, weight, bias, stride, padding, dilation, groups, nd):
    """out[n, o, y] = bias[o] + sum over c (of o's group) and kernel offsets u of
    weight[o, c, u] * xpad[n, c, y * stride + u * dilation]."""
    xb, single = _batch(x, nd)
    s, p, d = _tuple(stride, nd), _tuple(padding, nd), _tuple(dilation, nd)
    w = np.asarray(weight, np.float64)
    nout, cin_g, ksize = w.shape[0], w.shape[1], w.shape[2:]
    n, cin = xb.shape[:2]
    if cin != cin_g * groups or nout % groups:
        raise ValueError(f"weight {w.shape} does not fit {cin} input planes in {groups} groups")
    xp = np.pad(xb, [(0, 0), (0, 0)] + [(pi, pi) for pi in p])
    osize = tuple((xp.shape[2 + i] - d[i] * (ksize[i] - 1) - 1) // s[i] + 1 for i in range(nd))
    xg = xp.reshape(n, groups, cin_g, *xp.shape[2:])
    wg = w.reshape(groups, nout // groups, cin_g, *ksize)
    out = np.zeros((n, groups, nout // groups) + osize)
    for off in _offsets(ksize):
        patch = xg[(slice(None),) * 3 + tuple(_window(off[i], d[i], s[i], osize[i]) for i in range(nd))]
        out += np.einsum("ngc...,goc->ngo...", patch, wg[(slice(None),) * 3 + off])
    out = out.reshape(n, nout, *osize)
    if bias is not None:
        out += np.asarray(bias, np.float64).reshape((nout,) + (1,) * nd)
    return _result(out, single, np.asarray(x).dtype)


def conv2d(x, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """Cross-correlation; weight is (nOut, nIn/groups, kH, kW)."""
    return _conv(x, weight, bias, stride, padding, dilation, groups, 2)


def conv3d(x, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """Cross-correlation; weight is (nOut, nIn/groups, kT, kH, kW)."""
    return _conv(x, weight, bias, stride, padding, dilation, groups, 3)


def _conv_transpose(x, weight, bias, stride, padding, output_padding, groups, dilation, nd):
    """The adjoint of _conv: each input value x[n, c, y] adds weight[c, o, u] * x[n, c, y]
    to out[n, o, y * stride + u * dilation - padding]. The uncropped output has
    (in - 1) * stride + dilation * (k - 1) + 1 + output_padding positions; `padding`
    of them are cut on each side."""
    xb, single = _batch(x, nd)
    s, p, d = _tuple(stride, nd), _tuple(padding, nd), _tuple(dilation, nd)
    op = _tuple(output_padding, nd)
    w = np.asarray(weight, np.float64)
    cin, nout_g, ksize = w.shape[0], w.shape[1], w.shape[2:]
    n, isize = xb.shape[0], xb.shape[2:]
    if xb.shape[1] != cin or cin % groups:
        raise ValueError(f"weight {w.shape} does not fit {xb.shape[1]} input planes in {groups} groups")
    full = tuple((isize[i] - 1) * s[i] + d[i] * (ksize[i] - 1) + 1 + op[i] for i in range(nd))
    buf = np.zeros((n, groups, nout_g) + full)
    xg = xb.reshape(n, groups, cin // groups, *isize)
    wg = w.reshape(groups, cin // groups, nout_g, *ksize)
    for off in _offsets(ksize):
        dst = (slice(None),) * 3 + tuple(_window(off[i], d[i], s[i], isize[i]) for i in range(nd))
        buf[dst] += np.einsum("ngc...,gco->ngo...", xg, wg[(slice(None),) * 3 + off])
    out = buf[(slice(None),) * 3 + tuple(slice(p[i], full[i] - p[i]) for i in range(nd))]
    out = out.reshape(n, groups * nout_g, *out.shape[3:])
    if bias is not None:
        out = out + np.asarray(bias, np.float64).reshape((-1,) + (1,) * nd)
    return _result(out, single, np.asarray(x).dtype)


def conv_transpose2d(x, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """Full (transposed) convolution; weight is (nIn, nOut/groups, kH, kW). Torch7's adjW/adjH
    are the output_padding."""
    return _conv_transpose(x, weight, bias, stride, padding, output_padding, groups, dilation, 2)


def conv_transpose3d(x, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """Full (transposed) convolution; weight is (nIn, nOut/groups, kT, kH, kW)."""
    return _conv_transpose(x, weight, bias, stride, padding, output_padding, groups, dilation, 3)


# --- poolings ---------------------------------------------------------------------------

def pool_output_size(size, k, s, p, d=1, ceil_mode=False):
    """Windows along one axis. With ceil_mode a last partial window counts, but only if it
    starts inside the input or its left padding (THNN and PyTorch drop one that would start
    in the right padding)."""
    span = size + 2 * p - d * (k - 1) - 1
    out = (-(-span // s) if ceil_mode else span // s) + 1
    if ceil_mode and (out - 1) * s >= size + p:
        out -= 1
    return out


def _pool_setup(xb, kernel_size, stride, padding, dilation, ceil_mode, fill, nd):
    """Padded input (`fill` outside), output size and per-axis parameters."""
    k = _tuple(kernel_size, nd)
    s = k if stride is None else _tuple(stride, nd)
    p, d = _tuple(padding, nd), _tuple(dilation, nd)
    size = xb.shape[2:]
    osize = tuple(pool_output_size(size[i], k[i], s[i], p[i], d[i], ceil_mode) for i in range(nd))
    # enough padding on the right for the last window, which ceil_mode lets run past it
    after = [max(p[i], (osize[i] - 1) * s[i] + d[i] * (k[i] - 1) + 1 - size[i] - p[i]) for i in range(nd)]
    xp = np.pad(xb, [(0, 0), (0, 0)] + [(p[i], after[i]) for i in range(nd)], constant_values=fill)
    return xp, osize, k, s, p, d


def _max_pool(x, kernel_size, stride, padding, dilation, ceil_mode, return_indices, nd):
    """Maximum over each window; padding never wins. As in THNN (and PyTorch), the first
    maximum in window order is kept and NaN propagates. Indices are 0-based positions in
    the flattened input plane (torch's convention; Torch7 stores them plus one)."""
    xb, single = _batch(x, nd)
    xp, osize, k, s, p, d = _pool_setup(xb, kernel_size, stride, padding, dilation, ceil_mode,
                                        -np.inf, nd)
    best = np.full(xb.shape[:2] + osize, -np.inf)
    index = np.full(best.shape, -1, np.int64)
    grids = np.meshgrid(*(np.arange(o) for o in osize), indexing="ij")
    for off in _offsets(k):
        val = xp[(slice(None),) * 2 + tuple(_window(off[i], d[i], s[i], osize[i]) for i in range(nd))]
        take = (val > best) | np.isnan(val)
        best = np.where(take, val, best)
        flat = np.zeros(osize, np.int64)
        for i in range(nd):   # input position of this kernel element, row-major in the plane
            flat = flat * xb.shape[2 + i] + grids[i] * s[i] + off[i] * d[i] - p[i]
        index = np.where(take, flat, index)
    out = _result(best, single, np.asarray(x).dtype)
    if return_indices:
        return out, (index[0] if single else index)
    return out


def max_pool2d(x, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    return _max_pool(x, kernel_size, stride, padding, dilation, ceil_mode, return_indices, 2)


def max_pool3d(x, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    return _max_pool(x, kernel_size, stride, padding, dilation, ceil_mode, return_indices, 3)


def _avg_pool(x, kernel_size, stride, padding, ceil_mode, count_include_pad, nd):
    """Window sum over the input, divided as THNN's SpatialAveragePooling does: a window
    is first clipped at the padded border (input + padding on each side), and its size
    there is the divisor with count_include_pad; without, the divisor is the number of
    input elements it covers."""
    xb, single = _batch(x, nd)
    xp, osize, k, s, p, _ = _pool_setup(xb, kernel_size, stride, padding, 1, ceil_mode, 0.0, nd)
    total = np.zeros(xb.shape[:2] + osize)
    for off in _offsets(k):
        total += xp[(slice(None),) * 2 + tuple(_window(off[i], 1, s[i], osize[i]) for i in range(nd))]
    divisor = np.ones(())
    for i in range(nd):   # the divisor is a product of one count per axis
        start = np.arange(osize[i]) * s[i] - p[i]
        end = np.minimum(start + k[i], xb.shape[2 + i] + p[i])
        if count_include_pad:
            count = end - start
        else:
            count = np.minimum(end, xb.shape[2 + i]) - np.maximum(start, 0)
        divisor = np.multiply.outer(divisor, count)
    return _result(total / divisor, single, np.asarray(x).dtype)


def avg_pool2d(x, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True):
    return _avg_pool(x, kernel_size, stride, padding, ceil_mode, count_include_pad, 2)


def avg_pool3d(x, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True):
    return _avg_pool(x, kernel_size, stride, padding, ceil_mode, count_include_pad, 3)


def _adaptive_pool(x, output_size, reduce, nd):
    """Output i along an axis of size n pools [floor(i * n / out), ceil((i + 1) * n / out))."""
    xb, single = _batch(x, nd)
    osize = _tuple(output_size, nd)
    size = xb.shape[2:]
    out = np.empty(xb.shape[:2] + osize)
    for pos in itertools.product(*(range(o) for o in osize)):
        win = tuple(slice(pos[i] * size[i] // osize[i], -(-(pos[i] + 1) * size[i] // osize[i]))
                    for i in range(nd))
        out[(slice(None),) * 2 + pos] = reduce(xb[(slice(None),) * 2 + win], axis=tuple(range(2, 2 + nd)))
    return _result(out, single, np.asarray(x).dtype)


def adaptive_max_pool2d(x, output_size):
    """output_size is (H, W)."""
    return _adaptive_pool(x, output_size, np.max, 2)


def adaptive_avg_pool2d(x, output_size):
    """output_size is (H, W)."""
    return _adaptive_pool(x, output_size, np.mean, 2)


def max_unpool2d(x, indices, output_size):
    """Zeros of output_size (H, W), each x value written at its 0-based plane index."""
    xb, single = _batch(x, 2)
    ind = np.asarray(indices)
    ind = ind[None] if single else ind
    h, w = output_size
    out = np.zeros(xb.shape[:2] + (h * w,))
    np.put_along_axis(out, ind.reshape(ind.shape[:2] + (-1,)), xb.reshape(xb.shape[:2] + (-1,)), axis=2)
    return _result(out.reshape(xb.shape[:2] + (h, w)), single, np.asarray(x).dtype)


# --- resampling, padding ----------------------------------------------------------------

def _linear_along(x, axis, osize, coord_dtype):
    """Linear interpolation along one axis with align_corners=True: output i reads the
    source coordinate i * (n - 1) / (osize - 1)."""
    n = x.shape[axis]
    ct = np.dtype(coord_dtype).type
    scale = ct(n - 1) / ct(osize - 1) if osize > 1 else ct(0)
    src = scale * np.arange(osize).astype(coord_dtype)
    lo = np.minimum(np.floor(src).astype(np.int64), n - 1)
    hi = np.minimum(lo + 1, n - 1)
    lam = (src - lo.astype(coord_dtype)).astype(np.float64)
    shape = [1] * x.ndim
    shape[axis] = osize
    lam = lam.reshape(shape)
    return (1 - lam) * np.take(x, lo, axis=axis) + lam * np.take(x, hi, axis=axis)


def upsample_bilinear(x, size, coord_dtype=np.float64):
    """Bilinear resize to size (H, W) with align_corners=True (Torch7's only mode).
    Torch7 computes source coordinates in float32 whatever the tensor type: pass
    coord_dtype=np.float32 for its rounding."""
    xb, single = _batch(x, 2)
    h, w = _tuple(size, 2)
    out = _linear_along(_linear_along(xb, 2, h, coord_dtype), 3, w, coord_dtype)
    return _result(out, single, np.asarray(x).dtype)


def pixel_shuffle(x, r):
    """(N, C*r*r, H, W) -> (N, C, H*r, W*r): out[n, c, h*r + i, w*r + j] = x[n, c*r*r + i*r + j, h, w]."""
    xb, single = _batch(x, 2)
    n, c, h, w = xb.shape
    planes = xb.reshape(n, c // (r * r), r, r, h, w)             # n, c, i, j, h, w
    out = planes.transpose(0, 1, 4, 2, 5, 3).reshape(n, c // (r * r), h * r, w * r)
    return _result(out, single, np.asarray(x).dtype)


def pad2d(x, left, right, top, bottom, mode="constant"):
    """Pad the last two axes (np.pad modes: constant (zeros), reflect, edge); a negative
    amount crops that side first, as Torch7's padding modules do."""
    x = np.asarray(x)
    h, w = x.shape[-2:]
    cropped = x[..., max(0, -top):h - max(0, -bottom), max(0, -left):w - max(0, -right)]
    widths = [(0, 0)] * (x.ndim - 2) + [(max(top, 0), max(bottom, 0)), (max(left, 0), max(right, 0))]
    return np.pad(cropped, widths, mode=mode)


# --- normalisations ---------------------------------------------------------------------

def softmax(x, axis):
    x = np.asarray(x)
    e = np.exp(x.astype(np.float64) - x.max(axis=axis, keepdims=True))
    return (e / e.sum(axis=axis, keepdims=True)).astype(x.dtype)


def log_softmax(x, axis):
    x = np.asarray(x)
    shifted = x.astype(np.float64) - x.max(axis=axis, keepdims=True)
    return (shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))).astype(x.dtype)


def local_response_norm(x, size, alpha=1e-4, beta=0.75, k=1.0, before=None, after=None):
    """Across channels (axis 1): x / (k + alpha / size * sum of x^2 over channels
    c - before .. c + after) ** beta. The default window is PyTorch's (size // 2 before,
    (size - 1) // 2 after); Torch7's SpatialCrossMapLRN chooses its own."""
    xb = np.asarray(x, np.float64)
    before = size // 2 if before is None else before
    after = (size - 1) // 2 if after is None else after
    c = xb.shape[1]
    sq = xb ** 2
    out = np.empty_like(xb)
    for i in range(c):
        s = sq[:, max(0, i - before):min(c, i + after + 1)].sum(axis=1)
        out[:, i] = xb[:, i] * (k + alpha / size * s) ** -beta
    return out.astype(np.asarray(x).dtype)
