"""NumPy kernels behind the recurrent modules (rnn's SeqLSTM/SeqGRU, cudnn's RNNs).

Called from Lua as ``nn.kernels.<name>(...)`` (bound by ``lua/nn/kernels.lua``) with tensors
as ndarray views of Lua memory: every kernel writes into the arrays it is given and
returns nothing. The Lua modules check every shape first, so a kernel only meets
arguments that fit. One time step is two matrix products (BLAS) and a few whole-array
ufuncs; only the loop over time steps is Python.
"""
from __future__ import annotations

import numpy as np


def _opt(v):
    """An optional argument: Lua nil/false arrive as None/False."""
    return None if v is None or v is False else v


def _sigmoid(x, out):
    # 1 / (1 + exp(-x)), in place in out
    np.negative(x, out=out)
    np.exp(out, out=out)
    out += 1
    np.reciprocal(out, out=out)
    return out


def _zero_rows(x):
    """Rows (axis 0 of a (N, D) step) whose L2 norm is zero: rnn's maskzero test."""
    return ~np.any(x != 0, axis=1)


def _project(gates, x, wx, bias):
    """gates (T, N, G) := x (T, N, D) @ wx (D, G) + bias, as one matrix product."""
    T, N, D = x.shape
    G = gates.shape[2]
    if gates.flags.c_contiguous:
        flat = gates.reshape(T * N, G)
        np.matmul(x.reshape(T * N, D), wx, out=flat)
        flat += bias
    else:
        gates[...] = (x.reshape(T * N, D) @ wx).reshape(T, N, G) + bias


# A time step's products have as many rows as the batch: up to this many, they run on one
# BLAS thread. Split across threads such a product (~1 ms) spends more in synchronisation
# than it saves, and on a loaded machine OpenBLAS's spinning threads make it many times
# slower (measured: a 32 x 512 x 2048 LSTM layer over 128 steps, 1.7 s wall on one thread,
# 11.7 s on two, at load average 15 on 2 cores).
SMALL_BATCH = 64


class _StepThreads:
    """with _StepThreads(rows): one BLAS thread inside when rows <= SMALL_BATCH (through
    _blas.single_threaded, which restores the count once when holders overlap)."""

    def __init__(self, rows):
        self.rows, self.held = rows, None

    def __enter__(self):
        if self.rows <= SMALL_BATCH:
            from . import _blas
            self.held = _blas.single_threaded()
            self.held.__enter__()
        return self

    def __exit__(self, *exc):
        if self.held is not None:
            self.held.__exit__(*exc)
        return False


def _mask_rows(maskzero, x, t):
    """The rows to zero at step t: maskzero False (none), True (the rows of x[t] that are all
    zero, rnn's version 1) or a (T, N) array (nonzero where masked: torch/rnn's zeroMask)."""
    if maskzero is None or maskzero is False:
        return None
    rows = _zero_rows(x[t]) if maskzero is True else np.asarray(maskzero[t]) != 0
    return rows if rows.any() else None


def _lstm_cell(g, prev_h, prev_c, nh, nc, wh, weight_o, hid):
    """One LSTM step once g holds x Wx + b: g += prev_h Wh (read whole before nh is written,
    so nh may be prev_h itself), the gates, nc := f . prev_c + i . cand, nh := o . tanh(nc)
    (projected by weight_o through hid for an LSTMP)."""
    H = nc.shape[-1]
    g += prev_h @ wh
    _sigmoid(g[:, :3 * H], g[:, :3 * H])
    np.tanh(g[:, 3 * H:], out=g[:, 3 * H:])
    i, f, o, cand = g[:, :H], g[:, H:2 * H], g[:, 2 * H:3 * H], g[:, 3 * H:]
    np.multiply(f, prev_c, out=nc)
    nc += i * cand
    if weight_o is None:
        np.tanh(nc, out=nh)
        nh *= o
    else:
        np.tanh(nc, out=hid)
        hid *= o
        np.matmul(hid, weight_o, out=nh)


def seq_lstm(h, c, gates, x, h0, c0, weight, bias, weight_o=None, hidden=None, maskzero=False):
    """rnn's SeqLSTM (and SeqLSTMP with weight_o): x (T, N, D), weight (D+R, 4H) with the
    gates in the order input, forget, output, candidate; bias (4H,); h0 (N, R), c0
    (N, H). Fills h (T, N, R), c (T, N, H), gates (T, N, 4H) and, with weight_o (H, R),
    hidden (T, N, H) (the state before projection). With maskzero (see _mask_rows), the
    masked rows of a step are zero (h, c and gates) and the next step starts from those
    zeros, as rnn does."""
    weight_o = _opt(weight_o)
    T = x.shape[0]
    D = x.shape[2]
    wx, wh = weight[:D], weight[D:]
    # the input projections of all steps in one product (one big GEMM beats T small ones)
    _project(gates, x, wx, bias)
    prev_h, prev_c = h0, c0
    with _StepThreads(x.shape[1]):
        for t in range(T):
            g, nh, nc = gates[t], h[t], c[t]
            _lstm_cell(g, prev_h, prev_c, nh, nc, wh, weight_o, None if weight_o is None else hidden[t])
            rows = _mask_rows(maskzero, x, t)
            if rows is not None:
                nh[rows] = 0
                nc[rows] = 0
                g[rows] = 0
            prev_h, prev_c = nh, nc


def step_lstm(h, c, gates, x, h0, c0, weight, bias, weight_o=None, hidden=None):
    """One step of torch/rnn's StepLSTM: x (N, D), h0 (N, R), c0 (N, H) into h (N, R), c
    (N, H), gates (N, 4H) (and hidden (N, H) with weight_o); h may be h0 and c may be c0
    (the module's own output fed back in evaluation)."""
    weight_o = _opt(weight_o)
    D = x.shape[1]
    np.matmul(x, weight[:D], out=gates)
    gates += bias
    _lstm_cell(gates, h0, c0, h, c, weight[D:], weight_o, _opt(hidden))


def _gru_cell(g, prev_h, nh, wh):
    """One GRU step once g holds x Wx + b: reset and update gates from prev_h, the candidate
    from r . prev_h, nh := (1 - u) . hc + u . prev_h. nh must not be prev_h."""
    H = nh.shape[-1]
    g[:, :2 * H] += prev_h @ wh[:, :2 * H]
    _sigmoid(g[:, :2 * H], g[:, :2 * H])
    r, u = g[:, :H], g[:, H:2 * H]
    np.multiply(r, prev_h, out=nh)
    g[:, 2 * H:] += nh @ wh[:, 2 * H:]
    hc = np.tanh(g[:, 2 * H:], out=g[:, 2 * H:])
    # (1 - u) * hc + u * prev_h
    np.subtract(prev_h, hc, out=nh)
    nh *= u
    nh += hc


def seq_gru(h, gates, x, h0, weight, bias, maskzero=False):
    """rnn's SeqGRU: x (T, N, D), weight (D+H, 3H) with the gates reset, update,
    candidate; bias (3H,). h_t = (1 - u) * hc + u * h_{t-1} with
    hc = tanh(Wx_c x + b_c + Wh_c (r * h_{t-1})). Fills h (T, N, H), gates (T, N, 3H);
    maskzero as in seq_lstm."""
    T = x.shape[0]
    D = x.shape[2]
    wx, wh = weight[:D], weight[D:]
    _project(gates, x, wx, bias)
    prev_h = h0
    with _StepThreads(x.shape[1]):
        for t in range(T):
            g, nh = gates[t], h[t]
            _gru_cell(g, prev_h, nh, wh)
            rows = _mask_rows(maskzero, x, t)
            if rows is not None:
                nh[rows] = 0
                g[rows] = 0
            prev_h = nh


def step_gru(h, gates, x, h0, weight, bias):
    """One step of torch/rnn's StepGRU: x (N, D), h0 (N, H) into h (N, H), gates (N, 3H);
    h may be h0 (it is copied first)."""
    if np.shares_memory(h, h0):
        h0 = h0.copy()
    D = x.shape[1]
    np.matmul(x, weight[:D], out=gates)
    gates += bias
    _gru_cell(gates, h0, h, weight[D:])


# ----------------------------------------------------------------------------
# cudnn's RNNs: the flat weight of cuDNN v5+ (see lua/cudnn/RNN.lua for the layout)
# ----------------------------------------------------------------------------

_GATES = {"CUDNN_LSTM": 4, "CUDNN_GRU": 3, "CUDNN_RNN_RELU": 1, "CUDNN_RNN_TANH": 1}


def cudnn_param_count(mode, input_size, hidden, layers, dirs):
    """Elements of the flat weight of a cuDNN RNN (matrices and two biases per gate)."""
    g = _GATES[mode]
    n = 0
    for layer in range(layers):
        ins = input_size if layer == 0 else hidden * dirs
        n += dirs * g * (hidden * ins + hidden * hidden + 2 * hidden)
    return n


def _cudnn_views(weight, mode, input_size, hidden, layers, dirs):
    """Per (layer, direction): (W (g*H, in), R (g*H, H), bW (g*H,), bR (g*H,)), views of
    the flat weight: all matrices first (per pseudo-layer: the g input matrices then the
    g recurrent ones, each H x in row-major), then all biases in the same order."""
    g = _GATES[mode]
    views = []
    off = 0
    for layer in range(layers):
        ins = input_size if layer == 0 else hidden * dirs
        for _ in range(dirs):
            W = weight[off:off + g * hidden * ins].reshape(g * hidden, ins)
            off += g * hidden * ins
            R = weight[off:off + g * hidden * hidden].reshape(g * hidden, hidden)
            off += g * hidden * hidden
            views.append([W, R])
    for k in range(layers * dirs):
        bW = weight[off:off + g * hidden]
        off += g * hidden
        bR = weight[off:off + g * hidden]
        off += g * hidden
        views[k] += [bW, bR]
    return views


def _cudnn_direction(mode, x, W, R, bW, bR, h0, c0, reverse, out, hy, cy):
    """One direction of one layer over x (T, N, in); writes out (T, N, H), hy, cy (N, H)."""
    T = x.shape[0]
    H = R.shape[1]
    # the input projections of every step in one product
    xw = np.matmul(x.reshape(-1, x.shape[2]), W.T).reshape(T, x.shape[1], -1)
    xw += bW
    h = h0
    c = c0
    steps = range(T - 1, -1, -1) if reverse else range(T)
    for t in steps:
        rh = h @ R.T
        rh += bR
        a = xw[t]
        if mode == "CUDNN_LSTM":
            a += rh
            i = _sigmoid(a[:, :H], np.empty_like(a[:, :H]))
            f = _sigmoid(a[:, H:2 * H], np.empty_like(i))
            cand = np.tanh(a[:, 2 * H:3 * H])
            o = _sigmoid(a[:, 3 * H:], np.empty_like(i))
            c = f * c + i * cand
            h = o * np.tanh(c)
        elif mode == "CUDNN_GRU":
            r = _sigmoid(a[:, :H] + rh[:, :H], np.empty_like(rh[:, :H]))
            z = _sigmoid(a[:, H:2 * H] + rh[:, H:2 * H], np.empty_like(r))
            cand = np.tanh(a[:, 2 * H:] + r * rh[:, 2 * H:])
            h = (1 - z) * cand + z * h
        elif mode == "CUDNN_RNN_TANH":
            h = np.tanh(a + rh)
        else:
            h = np.maximum(a + rh, 0)
        out[t] = h
    hy[...] = h
    if cy is not None and c is not None:
        cy[...] = c


def cudnn_rnn(out, hy, cy, x, weight, hx, cx, mode, input_size, hidden, layers, dirs):
    """cudnn.RNN forward (inference): x (T, N, inputSize), out (T, N, H*dirs), hy and cy
    (layers*dirs, N, H); hx, cx like hy or None (zeros). Layer l > 0 reads the
    concatenated directions of layer l - 1; dropout between layers is a training
    matter and is not applied."""
    hx, cx, cy = _opt(hx), _opt(cx), _opt(cy)
    views = _cudnn_views(weight, mode, input_size, hidden, layers, dirs)
    T, N = x.shape[0], x.shape[1]
    layer_in = x
    for layer in range(layers):
        layer_out = out if layer == layers - 1 else np.empty((T, N, hidden * dirs), dtype=out.dtype)
        for d in range(dirs):
            k = layer * dirs + d
            W, R, bW, bR = views[k]
            h0 = hx[k] if hx is not None else np.zeros((N, hidden), dtype=out.dtype)
            c0 = None
            if mode == "CUDNN_LSTM":
                c0 = cx[k] if cx is not None else np.zeros((N, hidden), dtype=out.dtype)
            res = np.empty((T, N, hidden), dtype=out.dtype)
            _cudnn_direction(mode, layer_in, W, R, bW, bR, h0, c0, d == 1, res, hy[k],
                             cy[k] if cy is not None and mode == "CUDNN_LSTM" else None)
            layer_out[:, :, d * hidden:(d + 1) * hidden] = res
        layer_in = layer_out


def fast_lstm_step(h, c, x, h0, c0, wx, bx, wh):
    """One step of rnn's FastLSTM in evaluation: a = x Wx' + bx + h0 Wh' (wx (4H, D), wh
    (4H, H), nn.Linear layout), gates [input, candidate, forget, output];
    c = i . z + f . c0, h = tanh(c) . o. x, h0, c0 are (N, .) or vectors; h and c may be
    h0 and c0 themselves (the gates are computed first)."""
    H = wh.shape[1]
    a = x @ wx.T
    a += bx
    a += h0 @ wh.T
    i = _sigmoid(a[..., :H], np.empty_like(a[..., :H]))
    z = np.tanh(a[..., H:2 * H])
    f = _sigmoid(a[..., 2 * H:3 * H], np.empty_like(i))
    o = _sigmoid(a[..., 3 * H:], np.empty_like(i))
    nc = i * z
    nc += f * c0
    c[...] = nc
    np.tanh(nc, out=nc)
    nc *= o
    h[...] = nc


def lstm_step(h, c, x, h0, c0, Wi, bi, Ui, Wf, bf, Uf, Wz, bz, Uz, Wo, bo, Uo, Vi=None, Vf=None, Vo=None):
    """One step of rnn's LSTM in evaluation (nn.Linear layouts: W (H, D), U (H, H);
    V the peephole CMul weights, None without cell2gate):
    i = sig(W_i x + b_i + U_i h0 + V_i . c0), f likewise, z = tanh(W_z x + b_z + U_z h0),
    c = f . c0 + i . z, o = sig(W_o x + b_o + U_o h0 + V_o . c), h = o . tanh(c)."""
    Vi, Vf, Vo = _opt(Vi), _opt(Vf), _opt(Vo)

    def gate(W, b, U, V, cell, act):
        a = x @ W.T
        a += b
        a += h0 @ U.T
        if V is not None:
            a += V.reshape(-1) * cell
        return act(a, a)

    i = gate(Wi, bi, Ui, Vi, c0, _sigmoid)
    f = gate(Wf, bf, Uf, Vf, c0, _sigmoid)
    z = gate(Wz, bz, Uz, None, None, lambda a, out: np.tanh(a, out=out))
    nc = f * c0
    nc += i * z
    o = gate(Wo, bo, Uo, Vo, nc, _sigmoid)
    c[...] = nc
    np.tanh(nc, out=nc)
    nc *= o
    h[...] = nc


def torch_rnn_lstm(h, c, gates, x, h0, c0, weight, bias):
    """torch-rnn's nn.LSTM forward (batch first): x (N, T, D), weight (D+H, 4H) with the
    gates input, forget, output, candidate; bias (4H,); h0, c0 (N, H). Fills h, c (N, T, H)
    and gates (N, T, 4H, after their sigmoid/tanh) as torch-rnn's LSTM.lua does, with the
    input projections of all steps in one product (on every BLAS thread) and the loop over
    preallocated buffers (its small products on one, see SMALL_BATCH)."""
    with _StepThreads(x.shape[0] * x.shape[1]):
        _torch_rnn_project(gates, x, weight, bias)
    with _StepThreads(x.shape[0]):
        _torch_rnn_steps(h, c, gates, x, h0, c0, weight)


def _torch_rnn_project(gates, x, weight, bias):
    N, T, D = x.shape
    G = gates.shape[2]
    if gates.flags.c_contiguous:
        flat = gates.reshape(N * T, G)
        np.matmul(x.reshape(N * T, D), weight[:D], out=flat)
        flat += bias
    else:
        gates[...] = (x.reshape(N * T, D) @ weight[:D]).reshape(N, T, G) + bias


def _torch_rnn_steps(h, c, gates, x, h0, c0, weight):
    N, T, D = x.shape
    H = c.shape[2]
    wh = weight[D:]
    rec = np.empty((N, 4 * H), dtype=gates.dtype)
    tmp = np.empty((N, H), dtype=gates.dtype)
    prev_h, prev_c = h0, c0
    for t in range(T):
        g = gates[:, t]
        np.matmul(prev_h, wh, out=rec)
        g += rec
        s = g[:, :3 * H]
        np.negative(s, out=s)
        np.exp(s, out=s)
        s += 1
        np.reciprocal(s, out=s)
        np.tanh(g[:, 3 * H:], out=g[:, 3 * H:])
        nh, nc = h[:, t], c[:, t]
        np.multiply(g[:, H:2 * H], prev_c, out=nc)
        np.multiply(g[:, :H], g[:, 3 * H:], out=tmp)
        nc += tmp
        np.tanh(nc, out=nh)
        nh *= g[:, 2 * H:3 * H]
        prev_h, prev_c = nh, nc


# ----------------------------------------------------------------------------
# Backward (BPTT): one reverse pass over the steps a forward kernel left behind (h, c and the
# gates after their sigmoid/tanh); the gradients of the pre-activations of every step are
# kept, so the products with the inputs (grad_x, the input weights, the bias) are each one
# product over all steps. Parameter gradients are accumulated (scaled), the input gradients
# overwritten.
# ----------------------------------------------------------------------------


def _prev_states(first, seq):
    """(T, N, S): the state before each step, first then seq[:-1]."""
    out = np.empty_like(seq)
    out[0] = first
    out[1:] = seq[:-1]
    return out


def _masked(maskzero, x, t, grads):
    """Zero, in the arrays of grads, the rows step t masked in the forward pass (their output
    was forced to zero: nothing reaches back through them)."""
    rows = _mask_rows(maskzero, x, t)
    if rows is not None:
        for g in grads:
            g[rows] = 0


def _input_grads(grad_x, grad_w, grad_b, da, x, wx, scale):
    """grad_x := da @ wx.T, grad_w[:D] += scale x.T @ da, grad_b += scale sum(da), over all
    steps at once (da (T, N, G), x (T, N, D))."""
    T, N, D = x.shape
    flat = da.reshape(T * N, -1)
    xf = x.reshape(T * N, D)
    grad_x[...] = (flat @ wx.T).reshape(T, N, D)
    if scale != 0:
        grad_w[:D] += scale * (xf.T @ flat)
        grad_b += scale * flat.sum(axis=0)


def seq_lstm_backward(grad_x, grad_h0, grad_c0, grad_w, grad_b, grad_wo, x, h0, c0, h, c, gates,
                      weight, weight_o, hidden, grad_h, grad_hT, grad_cT, maskzero=False, scale=1.0):
    """BPTT of seq_lstm. grad_h (T, N, R) is the gradient of the outputs, grad_hT/grad_cT
    (N, R)/(N, H) or None that of the last h and c from outside (rnn's gradPrevOutput and
    userNextGradCell). Fills grad_x (T, N, D), grad_h0, grad_c0 and adds scale times the
    gradients to grad_w (D+R, 4H), grad_b (4H,) and grad_wo (H, R, with weight_o)."""
    weight_o, hidden = _opt(weight_o), _opt(hidden)
    grad_hT, grad_cT, grad_wo = _opt(grad_hT), _opt(grad_cT), _opt(grad_wo)
    T, N, D = x.shape
    H = c.shape[2]
    wx, wh = weight[:D], weight[D:]
    da = np.empty_like(gates)
    gh = np.zeros_like(h0) if grad_hT is None else np.array(grad_hT, dtype=h.dtype)
    gc = np.zeros_like(c0) if grad_cT is None else np.array(grad_cT, dtype=c.dtype)
    with _StepThreads(N):
        for t in range(T - 1, -1, -1):
            gh += grad_h[t]
            _masked(maskzero, x, t, (gh, gc))
            g = gates[t]
            i, f, o, cand = g[:, :H], g[:, H:2 * H], g[:, 2 * H:3 * H], g[:, 3 * H:]
            prev_c = c0 if t == 0 else c[t - 1]
            tc = np.tanh(c[t])
            if weight_o is None:
                ghid = gh
            else:
                ghid = gh @ weight_o.T
                if scale != 0:
                    grad_wo += scale * (hidden[t].T @ gh)
            gc += ghid * o * (1 - tc * tc)
            a = da[t]
            np.multiply(ghid * tc, o * (1 - o), out=a[:, 2 * H:3 * H])
            np.multiply(gc * cand, i * (1 - i), out=a[:, :H])
            np.multiply(gc * prev_c, f * (1 - f), out=a[:, H:2 * H])
            np.multiply(gc * i, 1 - cand * cand, out=a[:, 3 * H:])
            gh = a @ wh.T
            gc *= f
    grad_h0[...] = gh
    grad_c0[...] = gc
    _input_grads(grad_x, grad_w, grad_b, da, x, wx, scale)
    if scale != 0:
        prev_h = _prev_states(h0, h).reshape(T * N, -1)
        grad_w[D:] += scale * (prev_h.T @ da.reshape(T * N, -1))


def step_lstm_backward(grad_x, grad_h0, grad_c0, grad_w, grad_b, grad_wo, x, h0, c0, h, c, gates,
                       weight, weight_o, hidden, grad_h, grad_c, scale=1.0):
    """The backward of one StepLSTM step (x (N, D)): seq_lstm_backward over a sequence of one,
    grad_h (N, R) and grad_c (N, H) the gradients of its two outputs."""
    one = lambda a: None if _opt(a) is None else a[None]
    seq_lstm_backward(grad_x[None], grad_h0, grad_c0, grad_w, grad_b, grad_wo, x[None], h0, c0,
                      h[None], c[None], gates[None], weight, weight_o, one(hidden), grad_h[None],
                      None, grad_c, False, scale)


def seq_gru_backward(grad_x, grad_h0, grad_w, grad_b, x, h0, h, gates, weight, grad_h, grad_hT,
                     maskzero=False, scale=1.0):
    """BPTT of seq_gru (gates hold r, u and the candidate hc after the forward). grad_h
    (T, N, H), grad_hT (N, H) or None; fills grad_x, grad_h0 and adds scale times the
    gradients to grad_w (D+H, 3H) and grad_b (3H,)."""
    grad_hT = _opt(grad_hT)
    T, N, D = x.shape
    H = h.shape[2]
    wx, wh = weight[:D], weight[D:]
    da = np.empty_like(gates)
    gh = np.zeros_like(h0) if grad_hT is None else np.array(grad_hT, dtype=h.dtype)
    grad_whc = np.zeros((H, H), dtype=h.dtype)
    with _StepThreads(N):
        for t in range(T - 1, -1, -1):
            gh += grad_h[t]
            _masked(maskzero, x, t, (gh,))
            g = gates[t]
            r, u, hc = g[:, :H], g[:, H:2 * H], g[:, 2 * H:]
            prev = h0 if t == 0 else h[t - 1]
            a = da[t]
            np.multiply(gh * (1 - u), 1 - hc * hc, out=a[:, 2 * H:])
            np.multiply(gh * (prev - hc), u * (1 - u), out=a[:, H:2 * H])
            g_rh = a[:, 2 * H:] @ wh[:, 2 * H:].T
            np.multiply(g_rh * prev, r * (1 - r), out=a[:, :H])
            if scale != 0:
                grad_whc += (r * prev).T @ a[:, 2 * H:]
            gh = gh * u + g_rh * r + a[:, :2 * H] @ wh[:, :2 * H].T
    grad_h0[...] = gh
    _input_grads(grad_x, grad_w, grad_b, da, x, wx, scale)
    if scale != 0:
        prev_h = _prev_states(h0, h).reshape(T * N, -1)
        grad_w[D:, :2 * H] += scale * (prev_h.T @ da[:, :, :2 * H].reshape(T * N, -1))
        grad_w[D:, 2 * H:] += scale * grad_whc


def step_gru_backward(grad_x, grad_h0, grad_w, grad_b, x, h0, h, gates, weight, grad_h, scale=1.0):
    """The backward of one StepGRU step: seq_gru_backward over a sequence of one."""
    seq_gru_backward(grad_x[None], grad_h0, grad_w, grad_b, x[None], h0, h[None], gates[None],
                     weight, grad_h[None], None, False, scale)


def _cudnn_direction_saved(mode, x, W, R, bW, bR, h0, c0, reverse):
    """_cudnn_direction that keeps, per step (in the order of x), the state before it and its
    activations: returns (hs (T, N, H), prev_h, prev_c, acts) for the backward pass."""
    T, N = x.shape[0], x.shape[1]
    H = R.shape[1]
    xw = np.matmul(x.reshape(-1, x.shape[2]), W.T).reshape(T, N, -1)
    xw += bW
    hs = np.empty((T, N, H), dtype=x.dtype)
    prev_h = np.empty_like(hs)
    prev_c = np.empty_like(hs) if mode == "CUDNN_LSTM" else None
    acts = np.empty_like(xw)
    rhc = np.empty_like(hs) if mode == "CUDNN_GRU" else None
    cs = np.empty_like(hs) if mode == "CUDNN_LSTM" else None
    h, c = h0, c0
    for t in (range(T - 1, -1, -1) if reverse else range(T)):
        prev_h[t] = h
        rh = h @ R.T
        rh += bR
        a = xw[t]
        s = acts[t]
        if mode == "CUDNN_LSTM":
            prev_c[t] = c
            a += rh
            _sigmoid(a[:, :2 * H], s[:, :2 * H])
            np.tanh(a[:, 2 * H:3 * H], out=s[:, 2 * H:3 * H])
            _sigmoid(a[:, 3 * H:], s[:, 3 * H:])
            c = s[:, H:2 * H] * c + s[:, :H] * s[:, 2 * H:3 * H]
            cs[t] = c
            h = s[:, 3 * H:] * np.tanh(c)
        elif mode == "CUDNN_GRU":
            _sigmoid(a[:, :2 * H] + rh[:, :2 * H], s[:, :2 * H])
            rhc[t] = rh[:, 2 * H:]
            np.tanh(a[:, 2 * H:] + s[:, :H] * rhc[t], out=s[:, 2 * H:])
            z = s[:, H:2 * H]
            h = (1 - z) * s[:, 2 * H:] + z * h
        elif mode == "CUDNN_RNN_TANH":
            h = np.tanh(a + rh)
            s[...] = h
        else:
            h = np.maximum(a + rh, 0)
            s[...] = h
        hs[t] = h
    return hs, prev_h, prev_c, cs, acts, rhc


def _cudnn_direction_backward(mode, x, W, R, saved, gout, ghy, gcy, reverse, grads, scale):
    """The gradients of one direction of one layer: gout (T, N, H) those of its outputs, ghy
    and gcy (N, H) of its last state. Returns (grad of x, grad of h0, grad of c0) and adds
    scale times the gradients of W, R, bW, bR to grads (views of the flat gradWeight)."""
    hs, prev_h, prev_c, cs, acts, rhc = saved
    gW, gR, gbW, gbR = grads
    T, N = x.shape[0], x.shape[1]
    H = R.shape[1]
    dx_pre = np.empty_like(acts)     # gradient of x W^T + bW
    dr_pre = np.empty_like(acts)     # gradient of h R^T + bR
    gh = np.array(ghy, dtype=x.dtype)
    gc = np.array(gcy, dtype=x.dtype) if mode == "CUDNN_LSTM" else None
    for t in (range(T) if reverse else range(T - 1, -1, -1)):
        gh += gout[t]
        s = acts[t]
        a = dx_pre[t]
        if mode == "CUDNN_LSTM":
            i, f, cand, o = s[:, :H], s[:, H:2 * H], s[:, 2 * H:3 * H], s[:, 3 * H:]
            tc = np.tanh(cs[t])
            gc += gh * o * (1 - tc * tc)
            a[:, :H] = gc * cand * i * (1 - i)
            a[:, H:2 * H] = gc * prev_c[t] * f * (1 - f)
            a[:, 2 * H:3 * H] = gc * i * (1 - cand * cand)
            a[:, 3 * H:] = gh * tc * o * (1 - o)
            dr_pre[t] = a
            gc = gc * f
            gh = a @ R
        elif mode == "CUDNN_GRU":
            r, z, cand = s[:, :H], s[:, H:2 * H], s[:, 2 * H:]
            prev = prev_h[t]
            a[:, 2 * H:] = gh * (1 - z) * (1 - cand * cand)
            a[:, H:2 * H] = gh * (prev - cand) * z * (1 - z)
            a[:, :H] = a[:, 2 * H:] * rhc[t] * r * (1 - r)
            d = dr_pre[t]
            d[:, :2 * H] = a[:, :2 * H]
            d[:, 2 * H:] = a[:, 2 * H:] * r
            gh = gh * z + d @ R
        else:
            if mode == "CUDNN_RNN_TANH":
                a[...] = gh * (1 - s * s)
            else:
                a[...] = gh * (s > 0)
            dr_pre[t] = a
            gh = a @ R
    flat_x = dx_pre.reshape(T * N, -1)
    flat_r = dr_pre.reshape(T * N, -1)
    gx = (flat_x @ W).reshape(T, N, -1)
    if scale != 0:
        gW += scale * (flat_x.T @ x.reshape(T * N, -1))
        gbW += scale * flat_x.sum(axis=0)
        gR += scale * (flat_r.T @ prev_h.reshape(T * N, H))
        gbR += scale * flat_r.sum(axis=0)
    return gx, gh, gc


def cudnn_rnn_backward(grad_x, grad_hx, grad_cx, grad_weight, x, weight, hx, cx, grad_out, grad_hy,
                       grad_cy, mode, input_size, hidden, layers, dirs, scale=1.0):
    """The backward of cudnn_rnn: recomputes the forward pass keeping each step's activations,
    then runs back through the layers (the top one first) and the steps. grad_out (T, N, H*dirs),
    grad_hy/grad_cy (layers*dirs, N, H) or None (zeros); fills grad_x (T, N, inputSize),
    grad_hx and grad_cx (layers*dirs, N, H) and adds scale times the weight gradient to
    grad_weight (the flat layout of weight)."""
    hx, cx, grad_hy, grad_cy = _opt(hx), _opt(cx), _opt(grad_hy), _opt(grad_cy)
    grad_cx = _opt(grad_cx)
    with _StepThreads(x.shape[1]):
        _cudnn_backward_layers(grad_x, grad_hx, grad_cx, grad_weight, x, weight, hx, cx, grad_out,
                               grad_hy, grad_cy, mode, input_size, hidden, layers, dirs, scale)


def _cudnn_backward_layers(grad_x, grad_hx, grad_cx, grad_weight, x, weight, hx, cx, grad_out, grad_hy,
                           grad_cy, mode, input_size, hidden, layers, dirs, scale):
    views = _cudnn_views(weight, mode, input_size, hidden, layers, dirs)
    gviews = _cudnn_views(grad_weight, mode, input_size, hidden, layers, dirs)
    T, N = x.shape[0], x.shape[1]
    zeros = np.zeros((N, hidden), dtype=x.dtype)
    inputs, saved = [x], []
    for layer in range(layers):
        outs = []
        for d in range(dirs):
            k = layer * dirs + d
            W, R, bW, bR = views[k]
            h0 = hx[k] if hx is not None else zeros
            c0 = (cx[k] if cx is not None else zeros) if mode == "CUDNN_LSTM" else None
            sv = _cudnn_direction_saved(mode, inputs[-1], W, R, bW, bR, h0, c0, d == 1)
            saved.append(sv)
            outs.append(sv[0])
        inputs.append(np.concatenate(outs, axis=2))
    g_layer = np.asarray(grad_out)
    for layer in range(layers - 1, -1, -1):
        g_in = np.zeros_like(inputs[layer])
        for d in range(dirs):
            k = layer * dirs + d
            W, R = views[k][0], views[k][1]
            ghy = grad_hy[k] if grad_hy is not None else zeros
            gcy = grad_cy[k] if grad_cy is not None else zeros
            gx, gh0, gc0 = _cudnn_direction_backward(
                mode, inputs[layer], W, R, saved[k], g_layer[:, :, d * hidden:(d + 1) * hidden],
                ghy, gcy, d == 1, gviews[k], scale)
            g_in += gx
            grad_hx[k] = gh0
            if grad_cx is not None:
                grad_cx[k] = gc0 if gc0 is not None else 0
        g_layer = g_in
    grad_x[...] = g_layer
