"""cudnn.RNN and its LSTM/GRU/RNNTanh/RNNReLU/BLSTM/BGRU run on the CPU: against the
checksums of NVIDIA's cuDNN RNN sample that cudnn.torch's own test_rnn.lua asserts (real
cuDNN output), and against a NumPy recurrence written here from the flat weight's
layout (see lua/cudnn/RNN.lua), float and double."""
import numpy as np
import pytest

import sparktorch7 as st
from rnn_helpers import DTYPES, TNAME, sig, tol

GATES = {"CUDNN_LSTM": 4, "CUDNN_GRU": 3, "CUDNN_RNN_RELU": 1, "CUDNN_RNN_TANH": 1}


@pytest.fixture
def lua():
    state = st.LuaState()
    state.execute("require 'cudnn'")
    yield state
    state.close()


# cudnn.torch test/test_rnn.lua: 2 layers of 512, batch 64, 20 steps, input ones,
# hx = cx = 1; unidirectional: every matrix 1/numel, every bias 1; bidirectional: the
# whole flat weight 1/numel. Sums of output, hiddenOutput, cellOutput.
CHECKSUMS = [
    ("cudnn.RNNReLU(512, 512, 2)", False, (1.315793e6, 1.315212e5, None)),
    ("cudnn.RNNTanh(512, 512, 2)", False, (6.319591e5, 6.319605e4, None)),
    ("cudnn.LSTM(512, 512, 2)", False, (5.749536e5, 5.774818e4, 4.365091e5)),
    ("cudnn.GRU(512, 512, 2)", False, (6.358978e5, 6.281680e4, None)),
    ("cudnn.RNNReLU(512, 512, 2, true)", False, (1.315793e6, 1.315212e5, None)),
    ("cudnn.BLSTM(512, 512, 2)", True, (3.134097e4, 1.922855e0, 3.845626e0)),
    ("cudnn.BGRU(512, 512, 2)", True, (6.555183e4, 5.830924e0, None)),
]


@pytest.mark.parametrize("ctor,bidir,sums", CHECKSUMS)
def test_cudnn_sample_checksums(lua, ctor, bidir, sums):
    f = lua.eval(f"""function(bidir)
      local r = {ctor}; r:float()
      local g = ({{CUDNN_LSTM = 4, CUDNN_GRU = 3}})[r.mode] or 1
      local L = 2 * r.numDirections
      if bidir then
         r.weight:fill(1 / r.weight:size(1))
      else
         local nmat = 2 * g * 2 * 512 * 512
         r.weight:narrow(1, 1, nmat):fill(1 / (512 * 512))
         r.weight:narrow(1, nmat + 1, r.weight:nElement() - nmat):fill(1)
      end
      r.hiddenInput = torch.FloatTensor(L, 64, 512):fill(1)
      r.cellInput = torch.FloatTensor(L, 64, 512):fill(1)
      local x = r.batchFirst and torch.FloatTensor(64, 20, 512):fill(1) or torch.FloatTensor(20, 64, 512):fill(1)
      local y = r:forward(x)
      return y:sum(), r.hiddenOutput:sum(), r.cellOutput:sum()
    end""")
    y, h, c = f(bidir)
    np.testing.assert_allclose(y, sums[0], rtol=2e-5)
    np.testing.assert_allclose(h, sums[1], rtol=2e-5)
    if sums[2] is not None:
        np.testing.assert_allclose(c, sums[2], rtol=2e-5)


def reference(mode, x, w, D, H, L, dirs, hx=None, cx=None):
    """All matrices first (per pseudo-layer: g input matrices H x in, then g recurrent
    H x H), then all biases (per pseudo-layer: g input, then g recurrent)."""
    g = GATES[mode]
    off = 0
    mats = []
    for layer in range(L):
        ins = D if layer == 0 else H * dirs
        for _ in range(dirs):
            Ws = [w[off + k * H * ins: off + (k + 1) * H * ins].reshape(H, ins) for k in range(g)]
            off += g * H * ins
            Rs = [w[off + k * H * H: off + (k + 1) * H * H].reshape(H, H) for k in range(g)]
            off += g * H * H
            mats.append((Ws, Rs))
    biases = []
    for _ in range(L * dirs):
        bW = [w[off + k * H: off + (k + 1) * H] for k in range(g)]
        off += g * H
        bR = [w[off + k * H: off + (k + 1) * H] for k in range(g)]
        off += g * H
        biases.append((bW, bR))
    assert off == w.size
    T, N, _ = x.shape
    inp = x
    hy, cy = [], []
    for layer in range(L):
        outs = []
        for d in range(dirs):
            k = layer * dirs + d
            (Ws, Rs), (bW, bR) = mats[k], biases[k]
            h = np.zeros((N, H)) if hx is None else hx[k]
            c = np.zeros((N, H)) if cx is None else cx[k]
            res = np.zeros((T, N, H))
            for t in (range(T - 1, -1, -1) if d == 1 else range(T)):
                xi = [inp[t] @ Ws[j].T + bW[j] for j in range(g)]
                hr = [h @ Rs[j].T + bR[j] for j in range(g)]
                if mode == "CUDNN_LSTM":
                    i, f, cc, o = sig(xi[0] + hr[0]), sig(xi[1] + hr[1]), np.tanh(xi[2] + hr[2]), sig(xi[3] + hr[3])
                    c = f * c + i * cc
                    h = o * np.tanh(c)
                elif mode == "CUDNN_GRU":
                    r, z = sig(xi[0] + hr[0]), sig(xi[1] + hr[1])
                    n = np.tanh(xi[2] + r * hr[2])
                    h = (1 - z) * n + z * h
                elif mode == "CUDNN_RNN_TANH":
                    h = np.tanh(xi[0] + hr[0])
                else:
                    h = np.maximum(xi[0] + hr[0], 0)
                res[t] = h
            outs.append(res)
            hy.append(h)
            cy.append(c)
        inp = np.concatenate(outs, axis=2)
    return inp, np.stack(hy), np.stack(cy)


CASES = [("cudnn.LSTM", "CUDNN_LSTM", 1), ("cudnn.GRU", "CUDNN_GRU", 1), ("cudnn.RNNTanh", "CUDNN_RNN_TANH", 1),
         ("cudnn.RNNReLU", "CUDNN_RNN_RELU", 1), ("cudnn.BLSTM", "CUDNN_LSTM", 2), ("cudnn.BGRU", "CUDNN_GRU", 2)]


@pytest.mark.parametrize("cls,mode,dirs", CASES)
@pytest.mark.parametrize("dtype", DTYPES)
def test_against_numpy_from_the_flat_weight(lua, cls, mode, dirs, dtype):
    D, H, L, T, N = 3, 4, 2, 5, 2
    lua.execute(f"torch.manualSeed(3); m = {cls}({D}, {H}, {L}); m:type('{TNAME[dtype]}')")
    w = lua.eval("m.weight").astype(np.float64).copy()
    g = GATES[mode]
    assert w.size == sum(dirs * g * (H * (D if l == 0 else H * dirs) + H * H + 2 * H) for l in range(L))
    r = np.random.default_rng(0)
    x = r.standard_normal((T, N, D))
    fwd = lua.eval("function(x) local y = m:forward(x); return y:clone(), m.hiddenOutput:clone(), "
                   "m.cellOutput:clone() end")
    y, hy, cy = fwd(x.astype(dtype))
    ref, rh, rc = reference(mode, x.astype(dtype).astype(np.float64), w, D, H, L, dirs)
    np.testing.assert_allclose(y, ref, **tol(dtype))
    np.testing.assert_allclose(hy, rh, **tol(dtype))
    if mode == "CUDNN_LSTM":
        np.testing.assert_allclose(cy, rc, **tol(dtype))
    # a single sequence, batch first, and given initial states
    y1 = fwd(x[:, :1].astype(dtype))[0]
    np.testing.assert_allclose(y1, ref[:, :1], **tol(dtype))
    lua.execute("m.batchFirst = true")
    np.testing.assert_allclose(fwd(x.transpose(1, 0, 2).copy().astype(dtype))[0], ref.transpose(1, 0, 2),
                               **tol(dtype))
    lua.execute("m.batchFirst = false")
    hx, cx = r.standard_normal((L * dirs, N, H)), r.standard_normal((L * dirs, N, H))
    lua.eval("function(h, c) m.hiddenInput = h; m.cellInput = c end")(hx.astype(dtype), cx.astype(dtype))
    ref2 = reference(mode, x.astype(dtype).astype(np.float64), w, D, H, L, dirs,
                     hx.astype(dtype).astype(np.float64), cx.astype(dtype).astype(np.float64))[0]
    np.testing.assert_allclose(fwd(x.astype(dtype))[0], ref2, **tol(dtype))


@pytest.mark.parametrize("dtype", DTYPES)
def test_remember_states_and_roundtrip(lua, dtype):
    lua.execute(f"torch.manualSeed(4); m = cudnn.LSTM(3, 4, 1, false, 0, true); m:type('{TNAME[dtype]}')")
    w = lua.eval("m.weight").astype(np.float64).copy()
    x = np.random.default_rng(1).standard_normal((6, 2, 3)).astype(dtype)
    fwd = lua.eval("function(x) return m:forward(x):clone() end")
    fwd(x[:3])
    second = fwd(x[3:])
    ref = reference("CUDNN_LSTM", x.astype(np.float64), w, 3, 4, 1, 1)[0]
    np.testing.assert_allclose(second, ref[3:], **tol(dtype))
    lua.execute("local f = torch.MemoryFile(); f:binary(); f:writeObject(m); f:seek(1); m2 = f:readObject()")
    for k in ("weight", "mode", "numLayers", "hiddenSize", "inputSize", "numDirections", "rememberStates",
              "batchFirst", "bidirectional", "hiddenOutput"):
        assert lua.eval(f"m2.{k} ~= nil"), k
    assert lua.eval("torch.type(m2)") == "cudnn.LSTM"
    lua.execute("m2.rememberStates = false; m.rememberStates = false")
    a = fwd(x)
    b = lua.eval("function(x) return m2:forward(x) end")(x)
    np.testing.assert_array_equal(a, b)


def test_errors_and_convert(lua):
    lua.execute("m = cudnn.LSTM(3, 4, 2)")
    with pytest.raises(st.LuaError, match=r"<cudnn.LSTM> size mismatch: input has 5 features, the module expects 3"):
        lua.eval("function(x) return m:forward(x) end")(np.zeros((2, 2, 5)))
    with pytest.raises(st.LuaError, match=r"<cudnn.LSTM> input must be 3D"):
        lua.eval("function(x) return m:forward(x) end")(np.zeros((2, 3)))
    lua.execute("m:float(); m.weight = m.weight:narrow(1, 1, 10)")
    with pytest.raises(st.LuaError, match=r"<cudnn.LSTM> weight has 10 elements, a CUDNN_LSTM of 2 layer\(s\)"):
        lua.eval("function(x) return m:forward(x) end")(np.zeros((2, 2, 3), dtype=np.float32))
    lua.execute("m = cudnn.GRU(3, 4, 1); m.hiddenInput = torch.Tensor(2, 2, 4)")
    with pytest.raises(st.LuaError, match=r"<cudnn.GRU> hiddenInput must be 1x2x4"):
        lua.eval("function(x) return m:forward(x) end")(np.zeros((2, 2, 3)))
    # cudnn.convert keeps the RNNs (no nn class has their flat weight)
    assert lua.eval("torch.type(cudnn.convert(nn.Sequential():add(cudnn.LSTM(3, 4, 1)), nn).modules[1])") \
        == "cudnn.LSTM"
