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
