"""Element-Research rnn (`require 'rnn'`): each recurrent module against a NumPy
recurrence written here from the module's own weights, float and double, batch and
single sample, step by step and over sequences; save/load round trips keep the fields
a .t7 file holds."""
import glob
import os
import re

import numpy as np
import pytest

import sparktorch7 as st
from rnn_helpers import DTYPES, TNAME, sig, tol, rnn_lua  # noqa: F401 (a fixture)

HERE = os.path.dirname(os.path.abspath(__file__))
LUA = os.path.join(os.path.dirname(HERE), "sparktorch7", "lua")


@pytest.fixture
def lua(rnn_lua):
    return rnn_lua


def build(lua, ctor, dtype, seed=1):
    """A module from the Lua expression ctor, converted to dtype, in the global m."""
    lua.execute(f"torch.manualSeed({seed}); m = {ctor}; m:type('{TNAME[dtype]}')")


def get(lua, expr):
    v = lua.eval(expr)
    return v.astype(np.float64).copy() if isinstance(v, np.ndarray) else v


def roundtrip(lua, fields):
    """torch.save/torch.load m into m2 and check the named fields survived."""
    lua.execute("local f = torch.MemoryFile(); f:binary(); f:writeObject(m); f:seek(1); "
                "m2 = f:readObject(); f:close()")
    assert lua.eval("torch.type(m2) == torch.type(m)")
    for k in fields:
        assert lua.eval(f"m2.{k} ~= nil"), f"field {k} lost in the round trip"
    return "m2"


# ---------------------------------------------------------------------------
# references
# ---------------------------------------------------------------------------

def lstm_ref(xs, Wi, Ui, Vi, bi, Wf, Uf, Vf, bf, Wz, Uz, bz, Wo, Uo, Vo, bo):
    """rnn's LSTM with peepholes; xs (T, N, D); W (H, D) as nn.Linear, U (H, H)."""
    T, N, _ = xs.shape
    H = Wi.shape[0]
    h, c = np.zeros((N, H)), np.zeros((N, H))
    out = []
    for t in range(T):
        x = xs[t]
        i = sig(x @ Wi.T + bi + h @ Ui.T + Vi * c)
        f = sig(x @ Wf.T + bf + h @ Uf.T + Vf * c)
        z = np.tanh(x @ Wz.T + bz + h @ Uz.T)
        c = f * c + i * z
        o = sig(x @ Wo.T + bo + h @ Uo.T + Vo * c)
        h = o * np.tanh(c)
        out.append(h)
    return np.stack(out)


def fastlstm_ref(xs, Wx, bx, Wh):
    """FastLSTM: gates [input, candidate, forget, output] from i2g (4H, D), o2g (4H, H)."""
    T, N, _ = xs.shape
    H = Wh.shape[1]
    h, c = np.zeros((N, H)), np.zeros((N, H))
    out = []
    for t in range(T):
        a = xs[t] @ Wx.T + bx + h @ Wh.T
        i, z, f, o = sig(a[:, :H]), np.tanh(a[:, H:2 * H]), sig(a[:, 2 * H:3 * H]), sig(a[:, 3 * H:])
        c = i * z + f * c
        h = np.tanh(c) * o
        out.append(h)
    return np.stack(out)


def gru_ref(xs, Wg, bg, Ug, Wc, bc, Uc):
    T, N, _ = xs.shape
    H = Uc.shape[0]
    h = np.zeros((N, H))
    out = []
    for t in range(T):
        a = sig(xs[t] @ Wg.T + bg + h @ Ug.T)
        r, z = a[:, :H], a[:, H:]
        hc = np.tanh(xs[t] @ Wc.T + bc + (r * h) @ Uc.T)
        h = (1 - z) * hc + z * h
        out.append(h)
    return np.stack(out)


def seqlstm_ref(xs, W, b, h0=None, c0=None, WO=None, mask=False):
    """torch-rnn/rnn SeqLSTM: W (D+R, 4H), gates [i f o g]."""
    T, N, D = xs.shape
    H = W.shape[1] // 4
    R = W.shape[0] - D
    h = np.zeros((N, R)) if h0 is None else h0
    c = np.zeros((N, H)) if c0 is None else c0
    hs, cs = [], []
    for t in range(T):
        a = xs[t] @ W[:D] + h @ W[D:] + b
        i, f, o, g = sig(a[:, :H]), sig(a[:, H:2 * H]), sig(a[:, 2 * H:3 * H]), np.tanh(a[:, 3 * H:])
        c = f * c + i * g
        h = o * np.tanh(c)
        if WO is not None:
            h = h @ WO
        if mask:
            z = ~np.any(xs[t] != 0, axis=1)
            h = np.where(z[:, None], 0, h)
            c = np.where(z[:, None], 0, c)
        hs.append(h)
        cs.append(c)
    return np.stack(hs), np.stack(cs)


def seqgru_ref(xs, W, b, h0=None, mask=False):
    T, N, D = xs.shape
    H = W.shape[1] // 3
    h = np.zeros((N, H)) if h0 is None else h0
    hs = []
    for t in range(T):
        a = xs[t] @ W[:D] + b
        ru = sig(a[:, :2 * H] + h @ W[D:, :2 * H])
        r, u = ru[:, :H], ru[:, H:]
        hc = np.tanh(a[:, 2 * H:] + (r * h) @ W[D:, 2 * H:])
        h = (1 - u) * hc + u * h
        if mask:
            z = ~np.any(xs[t] != 0, axis=1)
            h = np.where(z[:, None], 0, h)
        hs.append(h)
    return np.stack(hs)


def lstm_weights(lua, prefix="m"):
    """The 15 parameters of rnn's LSTM, read from its named sub-modules."""
    ws = []
    for gate in ("inputGate", "forgetGate"):
        p = f"{prefix}.{gate}.modules[1]"
        ws += [get(lua, f"{p}.modules[1].modules[2].weight"), get(lua, f"{p}.modules[2].modules[2].weight"),
               get(lua, f"{p}.modules[3].weight"), get(lua, f"{p}.modules[1].modules[2].bias")]
    p = f"{prefix}.hiddenLayer.modules[2]"
    Wz, Uz, bz = (get(lua, f"{p}.modules[1].modules[2].weight"), get(lua, f"{p}.modules[2].modules[2].weight"),
                  get(lua, f"{p}.modules[1].modules[2].bias"))
    p = f"{prefix}.outputGate.modules[1]"
    Wo, Uo, Vo, bo = (get(lua, f"{p}.modules[1].modules[2].weight"), get(lua, f"{p}.modules[2].modules[2].weight"),
                      get(lua, f"{p}.modules[3].weight"), get(lua, f"{p}.modules[1].modules[2].bias"))
    return ws + [Wz, Uz, bz, Wo, Uo, Vo, bo]


def cast(a, dtype):
    return a.astype(dtype)


def c64(a, dtype):
    return a.astype(dtype).astype(np.float64)


# ---------------------------------------------------------------------------
# step-by-step recurrent modules
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", DTYPES)
def test_lstm_steps_batch_and_single(lua, dtype):
    build(lua, "nn.LSTM(3, 4)", dtype)
    lua.execute("for _, l in ipairs(m:findModules('nn.CMul')) do l.weight:uniform(-1, 1) end")
    xs = np.random.default_rng(0).standard_normal((5, 2, 3))
    step = lua.eval("function(x) return m:forward(x) end")
    outs = np.stack([step(cast(x, dtype)).astype(np.float64) for x in xs])
    ref = lstm_ref(c64(xs, dtype), *lstm_weights(lua))
    np.testing.assert_allclose(outs, ref, **tol(dtype))
    assert lua.eval("m.step") == 6
    assert lua.eval("#m.outputs") == 5 and lua.eval("#m.cells") == 5
    # forget() restarts the sequence: the first step again gives the first output
    lua.execute("m:forget()")
    np.testing.assert_allclose(step(cast(xs[0], dtype)), ref[0], **tol(dtype))
    # a single sample (1D input) follows the same recurrence
    lua.execute("m:forget(); m:evaluate()")
    single = np.stack([step(cast(x[1], dtype)).astype(np.float64) for x in xs])
    np.testing.assert_allclose(single, ref[:, 1], **tol(dtype))


@pytest.mark.parametrize("dtype", DTYPES)
def test_fastlstm_and_nngraph_fastlstm(lua, dtype):
    xs = np.random.default_rng(1).standard_normal((4, 3, 5))
    for setup in ("nn.FastLSTM.usenngraph = false", "nn.FastLSTM.usenngraph = true"):
        lua.execute(setup)
        build(lua, "nn.Sequencer(nn.FastLSTM(5, 6))", dtype)
        out = lua.eval("function(x) return m:forward(x) end")(cast(xs, dtype))
        Wx, bx = get(lua, "m.module.i2g.weight"), get(lua, "m.module.i2g.bias")
        Wh = get(lua, "m.module.o2g.weight")
        assert lua.eval("m.module.o2g.bias == nil")
        np.testing.assert_allclose(out, fastlstm_ref(c64(xs, dtype), Wx, bx, Wh), **tol(dtype))
    lua.execute("nn.FastLSTM.usenngraph = false")


@pytest.mark.parametrize("dtype", DTYPES)
def test_gru_sequencer_table_of_steps(lua, dtype):
    build(lua, "nn.Sequencer(nn.GRU(3, 4))", dtype)
    xs = np.random.default_rng(2).standard_normal((4, 2, 3))
    out = lua.eval("function(x) return m:forward(x) end")([cast(x, dtype) for x in xs])
    assert isinstance(out, dict) and len(out) == 4
    out = np.stack([out[k].astype(np.float64) for k in sorted(out)])
    g = "m.module.recurrentModule"
    Wg, bg, Ug = get(lua, "m.module.i2g.weight"), get(lua, "m.module.i2g.bias"), get(lua, "m.module.o2g.weight")
    t1 = f"{g}.modules[5].modules[1].modules[1].modules[1].modules[1].modules[1].modules[1]"
    Wc = get(lua, f"{t1}.modules[2].weight")
    bc = get(lua, f"{t1}.modules[2].bias")
    t2 = f"{g}.modules[5].modules[1].modules[1].modules[1].modules[1].modules[1].modules[2]"
    Uc = get(lua, f"{t2}.modules[3].weight")
    np.testing.assert_allclose(out, gru_ref(c64(xs, dtype), Wg, bg, Ug, Wc, bc, Uc), **tol(dtype))


@pytest.mark.parametrize("dtype", DTYPES)
def test_recurrent_and_recursor(lua, dtype):
    build(lua, "nn.Recurrent(4, nn.Linear(3, 4), nn.Linear(4, 4), nn.Tanh(), 5)", dtype)
    xs = np.random.default_rng(3).standard_normal((4, 2, 3))
    step = lua.eval("function(x) return m:forward(x):clone() end")
    outs = np.stack([step(cast(x, dtype)).astype(np.float64) for x in xs])
    Wi, bi = get(lua, "m.inputModule.weight"), get(lua, "m.inputModule.bias")
    Wf, bf = get(lua, "m.feedbackModule.weight"), get(lua, "m.feedbackModule.bias")
    bs = get(lua, "m.startModule.bias")
    xs64 = c64(xs, dtype)
    h = np.tanh(xs64[0] @ Wi.T + bi + bs)
    ref = [h]
    for x in xs64[1:]:
        h = np.tanh(x @ Wi.T + bi + h @ Wf.T + bf)
        ref.append(h)
    np.testing.assert_allclose(outs, np.stack(ref), **tol(dtype))
    # Recursor: a plain module made recurrent; each training step has its own clone
    build(lua, "nn.Recursor(nn.Linear(3, 2))", dtype)
    outs = [lua.eval("function(x) return m:forward(x) end")(cast(x, dtype)) for x in xs[:3]]
    W, b = get(lua, "m.module.weight"), get(lua, "m.module.bias")
    for o, x in zip(outs, xs[:3]):
        np.testing.assert_allclose(o, c64(x, dtype) @ W.T + b, **tol(dtype))
    assert lua.eval("m.sharedClones[2] ~= m.sharedClones[1]")
    # the clones share the weight storage
    assert lua.eval("torch.pointer(m.sharedClones[2].weight:storage()) == torch.pointer(m.module.weight:storage())")


@pytest.mark.parametrize("dtype", DTYPES)
def test_recurrence_and_repeater(lua, dtype):
    build(lua, "nn.Repeater(nn.Recurrence(nn.Sequential():add(nn.JoinTable(1, 1)):add(nn.Linear(7, 4))"
               ":add(nn.Tanh()), 4, 1), 3)", dtype)
    x = np.random.default_rng(4).standard_normal((2, 3))
    out = lua.eval("function(x) return m:forward(x) end")(cast(x, dtype))
    out = [out[k].astype(np.float64) for k in sorted(out)]
    W, b = get(lua, "m.module.recurrentModule.modules[2].weight"), get(lua, "m.module.recurrentModule.modules[2].bias")
    h = np.zeros((2, 4))
    for o in out:
        h = np.tanh(np.concatenate([c64(x, dtype), h], 1) @ W.T + b)
        np.testing.assert_allclose(o, h, **tol(dtype))
    assert len(out) == 3


# ---------------------------------------------------------------------------
# sequencers, remember, masks
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", DTYPES)
def test_sequencer_tensor_remember_and_forget(lua, dtype):
    build(lua, "nn.Sequencer(nn.FastLSTM(3, 4))", dtype)
    xs = np.random.default_rng(5).standard_normal((6, 2, 3))
    fwd = lua.eval("function(x) return m:forward(x):clone() end")
    Wx, bx, Wh = get(lua, "m.module.i2g.weight"), get(lua, "m.module.i2g.bias"), get(lua, "m.module.o2g.weight")
    ref = fastlstm_ref(c64(xs, dtype), Wx, bx, Wh)
    for mode in ("training", "evaluate"):
        lua.execute(f"m:{mode}(); m:remember('neither')")
        np.testing.assert_allclose(fwd(cast(xs[:3], dtype)), ref[:3], **tol(dtype))
        # without remember, the second half starts from zero again
        np.testing.assert_allclose(fwd(cast(xs[3:], dtype)), fastlstm_ref(c64(xs[3:], dtype), Wx, bx, Wh),
                                   **tol(dtype))
        lua.execute("m:remember('both'); m:forget()")
        fwd(cast(xs[:3], dtype))
        np.testing.assert_allclose(fwd(cast(xs[3:], dtype)), ref[3:], **tol(dtype))
    with pytest.raises(st.LuaError, match="remember expects"):
        lua.execute("m:remember('sometimes')")


@pytest.mark.parametrize("dtype", DTYPES)
def test_bisequencer(lua, dtype):
    build(lua, "nn.BiSequencer(nn.FastLSTM(3, 4), nn.FastLSTM(3, 2))", dtype)
    xs = np.random.default_rng(6).standard_normal((4, 2, 3))
    out = lua.eval("function(x) return m:forward(x) end")([cast(x, dtype) for x in xs])
    out = np.stack([out[k].astype(np.float64) for k in sorted(out)])
    f = [get(lua, f"m.forwardModule.{k}") for k in ("i2g.weight", "i2g.bias", "o2g.weight")]
    b = [get(lua, f"m.backwardModule.{k}") for k in ("i2g.weight", "i2g.bias", "o2g.weight")]
    x64 = c64(xs, dtype)
    ref = np.concatenate([fastlstm_ref(x64, *f), fastlstm_ref(x64[::-1], *b)[::-1]], axis=2)
    assert out.shape == (4, 2, 6)
    np.testing.assert_allclose(out, ref, **tol(dtype))


@pytest.mark.parametrize("dtype", DTYPES)
def test_maskzero_trimzero_lookuptablemaskzero(lua, dtype):
    x = np.random.default_rng(7).standard_normal((4, 3))
    x[1] = 0
    x[3] = 0
    for cls in ("MaskZero", "TrimZero"):
        build(lua, f"nn.{cls}(nn.Linear(3, 2), 1)", dtype)
        out = lua.eval("function(x) return m:forward(x) end")(cast(x, dtype))
        W, b = get(lua, "m.modules[1].weight"), get(lua, "m.modules[1].bias")
        ref = c64(x, dtype) @ W.T + b
        ref[[1, 3]] = 0
        np.testing.assert_allclose(out, ref, **tol(dtype))
        # a single all-zero sample gives zeros, another one its output
        np.testing.assert_allclose(lua.eval("function(x) return m:forward(x) end")(cast(x[1], dtype)), 0)
        np.testing.assert_allclose(lua.eval("function(x) return m:forward(x) end")(cast(x[0], dtype)),
                                   ref[0], **tol(dtype))
    # TrimZero runs the module on the non-zero rows only
    lua.eval("function(x) return m:forward(x) end")(cast(x, dtype))
    assert lua.eval("m.temp:size(1)") == 2
    # LSTM:maskZero wraps the step module: zero rows give zero output and state
    build(lua, "nn.Sequencer(nn.FastLSTM(3, 4):maskZero(1))", dtype)
    xs = np.random.default_rng(8).standard_normal((3, 2, 3))
    xs[1, 0] = 0
    out = lua.eval("function(x) return m:forward(x) end")(cast(xs, dtype))
    np.testing.assert_allclose(out[1, 0], 0)
    assert np.abs(out[2, 0]).min() > 0
    build(lua, "nn.LookupTableMaskZero(5, 3)", dtype)
    idx = np.array([[0, 2, 5], [1, 0, 3]], dtype=np.float64)
    out = lua.eval("function(x) return m:forward(x) end")(idx)
    W = get(lua, "m.weight")
    np.testing.assert_allclose(out, W[idx.astype(int)], **tol(dtype))
    np.testing.assert_allclose(out[0, 0], 0)


# ---------------------------------------------------------------------------
# whole-sequence modules
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", DTYPES)
def test_seqlstm_layouts_states_and_mask(lua, dtype):
    build(lua, "nn.SeqLSTM(3, 4)", dtype)
    r = np.random.default_rng(9)
    xs = r.standard_normal((5, 2, 3))
    W, b = get(lua, "m.weight"), get(lua, "m.bias")
    fwd = lua.eval("function(x) return m:forward(x):clone() end")
    h, c = seqlstm_ref(c64(xs, dtype), W, b)
    np.testing.assert_allclose(fwd(cast(xs, dtype)), h, **tol(dtype))
    np.testing.assert_allclose(get(lua, "m.cell"), c, **tol(dtype))
    # single sequence (batch of one)
    np.testing.assert_allclose(fwd(cast(xs[:, :1], dtype)), seqlstm_ref(c64(xs[:, :1], dtype), W, b)[0],
                               **tol(dtype))
    # batchfirst: batch x seqlen x size in and out
    lua.execute("m.batchfirst = true")
    np.testing.assert_allclose(fwd(cast(xs.transpose(1, 0, 2).copy(), dtype)), h.transpose(1, 0, 2), **tol(dtype))
    lua.execute("m.batchfirst = false")
    # {h0, x} and {c0, h0, x}
    h0, c0 = r.standard_normal((2, 4)), r.standard_normal((2, 4))
    out = lua.eval("function(h0, x) return m:forward({h0, x}):clone() end")(cast(h0, dtype), cast(xs, dtype))
    np.testing.assert_allclose(out, seqlstm_ref(c64(xs, dtype), W, b, h0=c64(h0, dtype))[0], **tol(dtype))
    out = lua.eval("function(c0, h0, x) return m:forward({c0, h0, x}):clone() end")(
        cast(c0, dtype), cast(h0, dtype), cast(xs, dtype))
    np.testing.assert_allclose(out, seqlstm_ref(c64(xs, dtype), W, b, c64(h0, dtype), c64(c0, dtype))[0],
                               **tol(dtype))
    # remember: the second call continues the first
    lua.execute("m:remember('both'); m:forget()")
    fwd(cast(xs[:2], dtype))
    np.testing.assert_allclose(fwd(cast(xs[2:], dtype)), h[2:], **tol(dtype))
    lua.execute("m:remember('neither')")
    # maskzero
    xm = xs.copy()
    xm[2, 1] = 0
    lua.execute("m:maskZero()")
    np.testing.assert_allclose(fwd(cast(xm, dtype)), seqlstm_ref(c64(xm, dtype), W, b, mask=True)[0], **tol(dtype))
    with pytest.raises(st.LuaError, match=r"<nn.SeqLSTM> input must be 3x2x3|input must be 5x2x3|must be"):
        fwd(cast(r.standard_normal((5, 2, 7)), dtype))
    with pytest.raises(st.LuaError, match=r"<nn.SeqLSTM> input must be 3D"):
        fwd(cast(xs[0], dtype))


@pytest.mark.parametrize("dtype", DTYPES)
def test_seqlstmp_and_seqgru(lua, dtype):
    r = np.random.default_rng(10)
    xs = r.standard_normal((4, 3, 5))
    build(lua, "nn.SeqLSTMP(5, 6, 2)", dtype)
    W, b, WO = get(lua, "m.weight"), get(lua, "m.bias"), get(lua, "m.weightO")
    out = lua.eval("function(x) return m:forward(x) end")(cast(xs, dtype))
    assert out.shape == (4, 3, 2)
    np.testing.assert_allclose(out, seqlstm_ref(c64(xs, dtype), W, b, WO=WO)[0], **tol(dtype))
    build(lua, "nn.SeqGRU(5, 4)", dtype)
    W, b = get(lua, "m.weight"), get(lua, "m.bias")
    fwd = lua.eval("function(x) return m:forward(x):clone() end")
    np.testing.assert_allclose(fwd(cast(xs, dtype)), seqgru_ref(c64(xs, dtype), W, b), **tol(dtype))
    np.testing.assert_allclose(fwd(cast(xs[:, :1], dtype)), seqgru_ref(c64(xs[:, :1], dtype), W, b), **tol(dtype))
    lua.execute("m.batchfirst = true")
    np.testing.assert_allclose(fwd(cast(xs.transpose(1, 0, 2).copy(), dtype)),
                               seqgru_ref(c64(xs, dtype), W, b).transpose(1, 0, 2), **tol(dtype))
    lua.execute("m.batchfirst = false; m:maskZero()")
    xm = xs.copy()
    xm[1, 2] = 0
    np.testing.assert_allclose(fwd(cast(xm, dtype)), seqgru_ref(c64(xm, dtype), W, b, mask=True), **tol(dtype))


@pytest.mark.parametrize("dtype", DTYPES)
def test_seqbrnn_and_seqreversesequence(lua, dtype):
    r = np.random.default_rng(11)
    xs = r.standard_normal((4, 2, 3))
    build(lua, "nn.SeqReverseSequence(1)", dtype)
    np.testing.assert_array_equal(lua.eval("function(x) return m:forward(x) end")(cast(xs, dtype)),
                                  cast(xs, dtype)[::-1])
    build(lua, "nn.SeqReverseSequence(2)", dtype)
    np.testing.assert_array_equal(lua.eval("function(x) return m:forward(x) end")(cast(xs, dtype)),
                                  cast(xs, dtype)[:, ::-1])
    for batchfirst in (False, True):
        build(lua, f"nn.SeqBRNN(3, 4, {str(batchfirst).lower()})", dtype)
        Wf, bf = get(lua, "m.forwardModule.weight"), get(lua, "m.forwardModule.bias")
        Wb, bb = get(lua, "m.backwardModule.weight"), get(lua, "m.backwardModule.bias")
        x64 = c64(xs, dtype)
        ref = seqlstm_ref(x64, Wf, bf)[0] + seqlstm_ref(x64[::-1], Wb, bb)[0][::-1]
        inp = xs.transpose(1, 0, 2).copy() if batchfirst else xs
        out = lua.eval("function(x) return m:forward(x) end")(cast(inp, dtype))
        np.testing.assert_allclose(out, ref.transpose(1, 0, 2) if batchfirst else ref, **tol(dtype))


@pytest.mark.parametrize("dtype", DTYPES)
def test_recurrent_attention(lua, dtype):
    # action: a Linear on the previous hidden state; rnn: Recurrence over {input, action}
    build(lua, "nn.RecurrentAttention(nn.Recurrence(nn.Sequential():add(nn.FlattenTable())"
               ":add(nn.JoinTable(1, 1)):add(nn.Linear(9, 4)):add(nn.Tanh()), 4, 1), nn.Linear(4, 2), 3, {4})",
          dtype)
    x = np.random.default_rng(12).standard_normal((2, 3))
    out = lua.eval("function(x) local o = m:forward(x); local r = {} for i = 1, #o do r[i] = o[i]:clone() end "
                   "return r end")(cast(x, dtype))
    out = [out[k].astype(np.float64) for k in sorted(out)]
    Wa, ba = get(lua, "m.action.module.weight"), get(lua, "m.action.module.bias")
    W, b = get(lua, "m.rnn.recurrentModule.modules[3].weight"), get(lua, "m.rnn.recurrentModule.modules[3].bias")
    h = np.zeros((2, 4))
    prev = np.zeros((2, 4))
    x64 = c64(x, dtype)
    for o in out:
        a = prev @ Wa.T + ba
        h = np.tanh(np.concatenate([x64, a, h], 1) @ W.T + b)
        np.testing.assert_allclose(o, h, **tol(dtype))
        prev = h
    assert len(out) == 3


# ---------------------------------------------------------------------------
# files, conventions, errors
# ---------------------------------------------------------------------------

ROUNDTRIP = [
    ("nn.LSTM(3, 4)", ["recurrentModule", "sharedClones", "step", "rho", "outputs", "cells", "zeroTensor",
                       "inputGate", "outputGate", "cellLayer"]),
    ("nn.FastLSTM(3, 4)", ["recurrentModule", "i2g", "o2g", "sharedClones", "rho"]),
    ("nn.GRU(3, 4)", ["recurrentModule", "i2g", "o2g", "sharedClones", "rho"]),
    ("nn.Sequencer(nn.FastLSTM(3, 4))", ["module", "modules", "_remember"]),
    ("nn.Recursor(nn.Linear(3, 4))", ["module", "recurrentModule", "sharedClones"]),
    ("nn.Repeater(nn.FastLSTM(3, 4), 2)", ["module", "rho"]),
    ("nn.BiSequencer(nn.FastLSTM(3, 4))", ["forwardModule", "backwardModule", "mergeModule", "module"]),
    ("nn.SeqLSTM(3, 4)", ["weight", "bias", "cell", "gates", "h0", "c0", "batchfirst", "maskzero", "_remember"]),
    ("nn.SeqGRU(3, 4)", ["weight", "bias", "gates", "h0", "batchfirst", "maskzero"]),
    ("nn.SeqLSTMP(3, 5, 4)", ["weight", "weightO", "bias"]),
    ("nn.SeqBRNN(3, 4)", ["forwardModule", "backwardModule", "merge", "module"]),
    ("nn.MaskZero(nn.Linear(3, 4), 1)", ["modules", "nInputDim"]),
    ("nn.TrimZero(nn.Linear(3, 4), 1)", ["modules", "nInputDim"]),
    ("nn.LookupTableMaskZero(5, 3)", ["weight"]),
    ("nn.SeqReverseSequence(1)", ["dim"]),
    ("nn.Recurrent(4, nn.Linear(3, 4), nn.Linear(4, 4))", ["initialModule", "recurrentModule", "startModule"]),
    ("nn.Recurrence(nn.Sequential():add(nn.JoinTable(1, 1)):add(nn.Linear(7, 4)), 4, 1)",
     ["recurrentModule", "outputSize", "nInputDim"]),
]


@pytest.mark.parametrize("ctor,fields", ROUNDTRIP)
@pytest.mark.parametrize("dtype", DTYPES)
def test_save_load_roundtrip_forward(lua, ctor, fields, dtype):
    build(lua, ctor, dtype)
    lua.execute("m:evaluate()")
    name = roundtrip(lua, fields)
    x = np.random.default_rng(13).standard_normal((2, 3)).astype(dtype)
    if ctor.startswith(("nn.SeqLSTM", "nn.SeqGRU", "nn.SeqBRNN", "nn.Sequencer", "nn.SeqReverse")):
        x = np.random.default_rng(13).standard_normal((4, 2, 3)).astype(dtype)
    if "LookupTable" in ctor:
        x = np.array([[0, 1, 5]], dtype=np.float64)
    if "BiSequencer" in ctor:
        x = [np.random.default_rng(13).standard_normal((2, 3)).astype(dtype) for _ in range(3)]
    f = lua.eval(f"function(x) local a = m:forward(x); a = type(a) == 'table' and a[1] or a; a = a:clone(); "
                 f"local b = {name}:forward(x); b = type(b) == 'table' and b[1] or b; return a, b end")
    a, b = f(x)
    np.testing.assert_array_equal(a, b)


def test_every_package_file_defines_its_class_and_is_required():
    for pkg, ns in (("rnn", "nn"), ("dpnn", "nn"), ("nnx", "nnx?"), ("inn", "inn"), ("stn", "nn")):
        with open(os.path.join(LUA, pkg, "init.lua")) as f:
            init = f.read()
        for path in glob.glob(os.path.join(LUA, pkg, "*.lua")):
            name = os.path.basename(path)[:-4]
            if not name[0].isupper():
                continue
            with open(path) as f:
                code = f.read()
            assert re.search(r"torch\.class\(['\"]%s\.%s['\"]" % (ns, name), code), f"{pkg}/{name}.lua"
            assert f"require('{pkg}.{name}')" in init, f"{pkg}/init.lua misses {name}"


def test_require_rnn_requires_dpnn_and_nn_and_classes_exist(lua):
    assert lua.eval("dpnn ~= nil and nn ~= nil and nn.rnn == rnn")
    for cls in ("AbstractRecurrent", "Recurrent", "Recursor", "Sequencer", "Repeater", "LSTM", "FastLSTM",
                "GRU", "SeqLSTM", "SeqGRU", "SeqBRNN", "BiSequencer", "SeqReverseSequence", "MaskZero",
                "LookupTableMaskZero", "TrimZero", "RecurrentAttention", "SeqLSTMP", "Recurrence",
                "AbstractSequencer", "LinearNoBias", "SAdd", "CopyGrad", "ExpandAs", "NormStabilizer",
                "BiSequencerLM", "SequencerCriterion", "RepeaterCriterion", "MaskZeroCriterion"):
        assert lua.eval(f"torch.getmetatable('nn.{cls}') ~= nil"), cls


def test_errors_name_the_module(lua):
    lua.execute("m = nn.LSTM(3, 4)")
    with pytest.raises(st.LuaError, match=r"<nn.LSTM> input must be a vector of 3 or a batch \(N x 3\), got a 2x5"):
        lua.eval("function(x) return m:forward(x) end")(np.zeros((2, 5)))
    with pytest.raises(st.LuaError, match=r"<nn.Sequencer> input must be a table of steps or a tensor"):
        lua.execute("nn.Sequencer(nn.Linear(2, 2)):forward(3)")
    with pytest.raises(st.LuaError, match=r"<nn.Repeater> expects the number of steps"):
        lua.execute("nn.Repeater(nn.Linear(2, 2))")
    with pytest.raises(st.LuaError, match=r"<nn.MaskZero> input has 3 dimensions, nInputDim is 1"):
        lua.execute("nn.MaskZero(nn.Identity(), 1):forward(torch.zeros(2, 2, 2))")
    lua.execute("m = nn.SeqLSTM(3, 4)")
    with pytest.raises(st.LuaError, match=r"<nn.SeqLSTM> h0 must be 2x4, got 3x4"):
        lua.eval("function(h, x) return m:forward({h, x}) end")(np.zeros((3, 4)), np.zeros((5, 2, 3)))


@pytest.mark.parametrize("dtype", DTYPES)
def test_bisequencerlm_expandas_normstabilizer(lua, dtype):
    build(lua, "nn.BiSequencerLM(nn.FastLSTM(3, 4), nn.FastLSTM(3, 2))", dtype)
    xs = np.random.default_rng(14).standard_normal((4, 2, 3))
    out = lua.eval("function(x) return m:forward(x) end")([cast(x, dtype) for x in xs])
    out = np.stack([out[k].astype(np.float64) for k in sorted(out)])
    f = [get(lua, f"m.forwardModule.{k}") for k in ("i2g.weight", "i2g.bias", "o2g.weight")]
    b = [get(lua, f"m.backwardModule.{k}") for k in ("i2g.weight", "i2g.bias", "o2g.weight")]
    x64 = c64(xs, dtype)
    fw = np.concatenate([np.zeros((1, 2, 4)), fastlstm_ref(x64[:-1], *f)])
    bw = np.concatenate([fastlstm_ref(x64[1:][::-1], *b)[::-1], np.zeros((1, 2, 2))])
    np.testing.assert_allclose(out, np.concatenate([fw, bw], axis=2), **tol(dtype))
    a, bb = np.ones((2, 3)), np.array([[1.0], [2.0]])
    out = lua.eval("function(a, b) return nn.ExpandAs():forward({a, b}) end")(a, bb)
    np.testing.assert_array_equal(out[2], [[1, 1, 1], [2, 2, 2]])
    build(lua, "nn.NormStabilizer()", dtype)
    x = cast(xs[0], dtype)
    np.testing.assert_array_equal(lua.eval("function(x) return m:forward(x) end")(x), x)
    assert lua.eval("m.step") == 2


def test_sequence_criteria(lua):
    r = np.random.default_rng(15)
    xs = r.standard_normal((3, 4, 2))
    ts = r.standard_normal((3, 4, 2))
    f = lua.eval("function(x, t, avg) return nn.SequencerCriterion(nn.MSECriterion(), avg):forward(x, t) end")
    per = [((x - t) ** 2).mean() for x, t in zip(xs, ts)]
    np.testing.assert_allclose(f(xs, ts, False), sum(per), rtol=1e-12)
    np.testing.assert_allclose(f(xs, ts, True), sum(per) / 3, rtol=1e-12)
    np.testing.assert_allclose(f([x for x in xs], [t for t in ts], False), sum(per), rtol=1e-12)
    with pytest.raises(st.LuaError, match=r"<nn.SequencerCriterion> target has 2 steps, input 3"):
        f(xs, ts[:2], False)
    g = lua.eval("function(x, t) return nn.RepeaterCriterion(nn.MSECriterion()):forward(x, t) end")
    np.testing.assert_allclose(g(xs, ts[0]), sum(((x - ts[0]) ** 2).mean() for x in xs), rtol=1e-12)
    x = xs[0].copy()
    x[1] = 0
    h = lua.eval("function(x, t) return nn.MaskZeroCriterion(nn.MSECriterion(), 1):forward(x, t) end")
    keep = [0, 2, 3]
    np.testing.assert_allclose(h(x, ts[0]), ((x[keep] - ts[0][keep]) ** 2).mean(), rtol=1e-12)
    assert h(np.zeros((4, 2)), ts[0]) == 0


def test_old_sequencer_file_with_a_plain_module(lua):
    # rnn of 2015 stored Sequencer(nn.Linear) with the Linear itself in `module`
    lua.execute("torch.manualSeed(3); m = nn.Sequencer(nn.Linear(3, 2)); old = m:clone(); "
                "old.module = old.module.module; old.modules = {old.module}; old.isRecurrent = false; "
                "old.sharedClones = {}; local f = torch.MemoryFile(); f:binary(); f:writeObject(old); f:seek(1); "
                "m2 = f:readObject()")
    assert lua.eval("torch.type(m2.module)") == "nn.Recursor"
    xs = [np.random.default_rng(16).standard_normal((2, 3)) for _ in range(3)]
    out = lua.eval("function(x) return m2:forward(x) end")(xs)
    W, b = get(lua, "m.module.module.weight"), get(lua, "m.module.module.bias")
    for k, x in zip(sorted(out), xs):
        np.testing.assert_allclose(out[k], x @ W.T + b, rtol=1e-12)


@pytest.mark.parametrize("dtype", DTYPES)
def test_fastlstm_evaluation_fast_path_equals_the_module_graph(lua, dtype):
    xs = np.random.default_rng(17).standard_normal((5, 3, 6))
    build(lua, "nn.Sequencer(nn.FastLSTM(6, 7))", dtype)
    lua.execute("m:evaluate()")
    f = lua.eval("function(x, fast) nn.FastLSTM.fastpath = fast; local y = m:forward(x):clone(); "
                 "nn.FastLSTM.fastpath = true; return y end")
    fast = f(cast(xs, dtype), True)
    # the step module's graph did not run
    assert lua.eval("m.module.i2g.output:nElement()") == 0
    slow = f(cast(xs, dtype), False)
    assert lua.eval("m.module.i2g.output:nElement()") > 0
    np.testing.assert_allclose(fast, slow, **tol(dtype))
    Wx, bx, Wh = get(lua, "m.module.i2g.weight"), get(lua, "m.module.i2g.bias"), get(lua, "m.module.o2g.weight")
    np.testing.assert_allclose(fast, fastlstm_ref(c64(xs, dtype), Wx, bx, Wh), **tol(dtype))
    # single samples, step by step
    step = lua.eval("function(x) return m.module:forward(x):clone() end")
    lua.execute("m.module:forget()")
    single = np.stack([step(cast(x[2], dtype)) for x in xs])
    np.testing.assert_allclose(single, slow[:, 2], **tol(dtype))
    # the fast path keeps nothing in the module's fields that a file would hold
    assert lua.eval("m.module._evalOutput == nil and m.module._standardGraph == nil")


def test_a_torch_rnn_lstm_read_as_rnn_lstm_says_what_it_is(lua):
    # torch-rnn's nn.LSTM object (its fields), written under the same class name
    lua.execute("local o = {weight = torch.zeros(5, 8), bias = torch.zeros(8), input_dim = 3, hidden_dim = 2, "
                "train = false, output = torch.Tensor(), gradInput = torch.Tensor()}; "
                "torch.setmetatable(o, 'nn.LSTM'); blob = torch.MemoryFile(); blob:binary(); blob:writeObject(o)")
    with pytest.raises(st.LuaError, match=r"<nn.LSTM> this object was not saved by Element-Research rnn's nn.LSTM"):
        lua.execute("blob:seek(1); blob:readObject()")


@pytest.mark.parametrize("mode", ["training", "evaluate"])
@pytest.mark.parametrize("dtype", DTYPES)
def test_sequencer_of_a_stack_holding_a_recurrent_module(lua, dtype, mode):
    # the common language-model stack: the Recursor clones the Sequential per step,
    # the FastLSTM inside stays one module (dpnn_stepclone) that keeps its state
    build(lua, "nn.Sequencer(nn.Sequential():add(nn.FastLSTM(3, 4)):add(nn.Linear(4, 2)):add(nn.LogSoftMax()))",
          dtype)
    lua.execute(f"m:{mode}()")
    xs = np.random.default_rng(18).standard_normal((5, 2, 3))
    out = lua.eval("function(x) return m:forward(x) end")(cast(xs, dtype))
    lstm = "m.module.module.modules[1]"
    Wx, bx, Wh = get(lua, f"{lstm}.i2g.weight"), get(lua, f"{lstm}.i2g.bias"), get(lua, f"{lstm}.o2g.weight")
    W, b = get(lua, "m.module.module.modules[2].weight"), get(lua, "m.module.module.modules[2].bias")
    h = fastlstm_ref(c64(xs, dtype), Wx, bx, Wh)
    z = h @ W.T + b
    ref = z - np.log(np.exp(z).sum(-1, keepdims=True))
    np.testing.assert_allclose(out, ref, **tol(dtype))
    if mode == "training":
        assert lua.eval(f"m.module.sharedClones[3].modules[1] == {lstm}")
        assert lua.eval("m.module.sharedClones[3].modules[2] ~= m.module.module.modules[2]")


@pytest.mark.parametrize("dtype", DTYPES)
def test_trimzero_inside_an_lstm(lua, dtype):
    build(lua, "nn.Sequencer(nn.FastLSTM(3, 4):trimZero(1))", dtype)
    xs = np.random.default_rng(19).standard_normal((4, 3, 3))
    xs[0, 1] = 0
    xs[2, 0] = 0
    out = lua.eval("function(x) return m:forward(x) end")(cast(xs, dtype))
    lstm = "m.module"
    Wx, bx, Wh = get(lua, f"{lstm}.i2g.weight"), get(lua, f"{lstm}.i2g.bias"), get(lua, f"{lstm}.o2g.weight")
    # rows are independent: each row's recurrence, with state and output zero at its zero steps
    x64 = c64(xs, dtype)
    H = 4
    for n in range(3):
        h, c = np.zeros(H), np.zeros(H)
        for t in range(4):
            if not x64[t, n].any():
                h, c = np.zeros(H), np.zeros(H)
            else:
                a = x64[t, n] @ Wx.T + bx + h @ Wh.T
                i, zz, f, o = sig(a[:H]), np.tanh(a[H:2 * H]), sig(a[2 * H:3 * H]), sig(a[3 * H:])
                c = i * zz + f * c
                h = np.tanh(c) * o
            np.testing.assert_allclose(out[t, n], h, **tol(dtype))


def test_rnn_lazy_and_mono_dropout(lua):
    lua.execute("torch.manualSeed(5); d = nn.Dropout(0.5, false, false); d.lazy = true; d.flag = true")
    f = lua.eval("function(x) return d:forward(x):clone() end")
    x = np.ones((4, 6))
    a, b = f(x), f(x)
    np.testing.assert_array_equal(a, b)  # lazy: one mask until backward
    assert set(np.unique(a)) <= {0.0, 2.0} and 0 < (a == 0).sum() < a.size
    lua.execute("d.lazy = false; d.mono = true")
    c = f(x)
    assert (c == c[0]).all()  # mono: one mask row for the batch
    lua.execute("d:evaluate()")
    np.testing.assert_array_equal(f(x), x)
    # plain core dropout is unchanged: a new mask per forward
    lua.execute("torch.manualSeed(6); e = nn.Dropout(0.5)")
    g = lua.eval("function(x) return e:forward(x):clone() end")
    assert not np.array_equal(g(np.ones((20, 20))), g(np.ones((20, 20))))


def test_recurrent_visual_attention_model_round_trip(lua):
    """The RAM model of rnn's examples (Recurrent + RecurrentAttention + SpatialGlimpse +
    ReinforceNormal, DontCast, Collapse, Convert): forward in evaluation, the same after
    a save/load round trip, and log-probabilities."""
    f = lua.eval("""function(x)
      torch.manualSeed(0)
      local H = 16
      local location = nn.Sequential():add(nn.SelectTable(2)):add(nn.Linear(2, 8)):add(nn.ReLU())
      local sensor = nn.Sequential():add(nn.DontCast(nn.SpatialGlimpse(8, 2, 2):float(), true))
         :add(nn.Collapse(3)):add(nn.Linear(128, 8)):add(nn.ReLU())
      local glimpse = nn.Sequential():add(nn.ConcatTable():add(location):add(sensor))
         :add(nn.JoinTable(1, 1)):add(nn.Linear(16, 8)):add(nn.ReLU()):add(nn.Linear(8, H))
      local rnn = nn.Recurrent(H, glimpse, nn.Linear(H, H), nn.ReLU(), 99999)
      local locator = nn.Sequential():add(nn.Linear(H, 2)):add(nn.HardTanh())
         :add(nn.ReinforceNormal(0.22, false)):add(nn.HardTanh()):add(nn.MulConstant(0.5))
      local agent = nn.Sequential():add(nn.Convert('bchw', 'bchw'))
         :add(nn.RecurrentAttention(rnn, locator, 4, {H})):add(nn.SelectTable(-1))
         :add(nn.Linear(H, 10)):add(nn.LogSoftMax())
      agent:evaluate()
      local y = agent:forward(x):clone()
      local again = agent:forward(x):clone()
      local f = torch.MemoryFile(); f:binary(); f:writeObject(agent); f:seek(1)
      local y2 = f:readObject():forward(x):clone()
      agent:training()
      local y3 = agent:forward(x):clone()
      return y, again, y2, y3
    end""")
    y, again, y2, y3 = f(np.random.default_rng(20).random((3, 1, 28, 28)))
    assert y.shape == (3, 10)
    np.testing.assert_allclose(np.exp(y).sum(1), 1, rtol=1e-6)
    np.testing.assert_array_equal(y, again)
    np.testing.assert_array_equal(y, y2)
    assert not np.array_equal(y, y3)  # training samples the locations


@pytest.mark.parametrize("dtype", DTYPES)
def test_bayesian_fastlstm_and_gru_evaluate_without_dropout(lua, dtype):
    # p > 0 builds separate Linear layers per gate behind lazy dropouts (identity in evaluation)
    xs = np.random.default_rng(21).standard_normal((3, 2, 3))
    build(lua, "nn.Sequencer(nn.FastLSTM(3, 4, 9999, nil, nil, nil, 0.25))", dtype)
    lua.execute("m:evaluate()")
    out = lua.eval("function(x) return m:forward(x) end")(cast(xs, dtype))
    i2g, o2g = "m.module.i2g.modules[2]", "m.module.o2g.modules[2]"
    Wx = np.concatenate([get(lua, f"{i2g}.modules[{k}].weight") for k in range(1, 5)])
    bx = np.concatenate([get(lua, f"{i2g}.modules[{k}].bias") for k in range(1, 5)])
    Wh = np.concatenate([get(lua, f"{o2g}.modules[{k}].weight") for k in range(1, 5)])
    assert lua.eval("m.module.i2g.modules[1].modules[1].lazy == true")
    np.testing.assert_allclose(out, fastlstm_ref(c64(xs, dtype), Wx, bx, Wh), **tol(dtype))
    build(lua, "nn.Sequencer(nn.GRU(3, 4, 9999, 0.25))", dtype)
    lua.execute("m:evaluate()")
    out = lua.eval("function(x) return m:forward(x) end")(cast(xs, dtype))
    i2g, o2g = "m.module.i2g.modules[2]", "m.module.o2g.modules[2]"
    Wg = np.concatenate([get(lua, f"{i2g}.modules[{k}].weight") for k in (1, 2)])
    bg = np.concatenate([get(lua, f"{i2g}.modules[{k}].bias") for k in (1, 2)])
    Ug = np.concatenate([get(lua, f"{o2g}.modules[{k}].weight") for k in (1, 2)])
    g = "m.module.recurrentModule"
    t1 = f"{g}.modules[5].modules[1].modules[1].modules[1].modules[1].modules[1].modules[1]"
    t2 = f"{g}.modules[5].modules[1].modules[1].modules[1].modules[1].modules[1].modules[2]"
    Wc, bc = get(lua, f"{t1}.modules[3].weight"), get(lua, f"{t1}.modules[3].bias")
    Uc = get(lua, f"{t2}.modules[4].weight")
    np.testing.assert_allclose(out, gru_ref(c64(xs, dtype), Wg, bg, Ug, Wc, bc, Uc), **tol(dtype))


def test_clones_keep_sharing_parameters_through_a_file(lua):
    lua.execute("torch.manualSeed(7); m = nn.Sequencer(nn.FastLSTM(3, 4)); m:forward(torch.randn(4, 2, 3)); "
                "local f = torch.MemoryFile(); f:binary(); f:writeObject(m); f:seek(1); m2 = f:readObject(); "
                "m2.module.i2g.weight:fill(0.25)")
    assert lua.eval("#m2.module.sharedClones") == 4
    assert lua.eval("m2.module.sharedClones[3].modules[1].modules[1].modules[2].modules[1].weight[1][1]") == 0.25
    # and training-mode forward of the loaded model equals the reference with those weights
    xs = np.random.default_rng(22).standard_normal((4, 2, 3))
    out = lua.eval("function(x) return m2:forward(x) end")(xs)
    Wx, bx, Wh = get(lua, "m2.module.i2g.weight"), get(lua, "m2.module.i2g.bias"), get(lua, "m2.module.o2g.weight")
    np.testing.assert_allclose(out, fastlstm_ref(xs, Wx, bx, Wh), rtol=1e-10, atol=1e-11)


@pytest.mark.parametrize("dtype", DTYPES)
def test_support_modules(lua, dtype):
    x = np.random.default_rng(23).standard_normal((2, 3))
    build(lua, "nn.LinearNoBias(3, 4)", dtype)
    W = get(lua, "m.weight")
    assert lua.eval("m.bias == nil")
    np.testing.assert_allclose(lua.eval("function(x) return m:forward(x) end")(cast(x, dtype)), c64(x, dtype) @ W.T,
                               **tol(dtype))
    np.testing.assert_allclose(lua.eval("function(x) return m:forward(x) end")(cast(x[0], dtype)),
                               c64(x, dtype)[0] @ W.T, **tol(dtype))
    roundtrip(lua, ["weight"])
    build(lua, "nn.SAdd(-1, true)", dtype)
    np.testing.assert_allclose(lua.eval("function(x) return m:forward(x) end")(cast(x, dtype)), 1 - c64(x, dtype),
                               **tol(dtype))
    build(lua, "nn.CopyGrad()", dtype)
    np.testing.assert_array_equal(lua.eval("function(x) return m:forward(x) end")(cast(x, dtype)), cast(x, dtype))


@pytest.mark.parametrize("cell2gate", ["true", "false"])
@pytest.mark.parametrize("dtype", DTYPES)
def test_lstm_evaluation_fast_path_equals_the_module_graph(lua, dtype, cell2gate):
    xs = np.random.default_rng(24).standard_normal((5, 3, 4))
    build(lua, f"nn.Sequencer(nn.LSTM(4, 5, 9999, {cell2gate}))", dtype)
    lua.execute("m:evaluate(); for _, l in ipairs(m:findModules('nn.CMul')) do l.weight:uniform(-1, 1) end")
    f = lua.eval("function(x, fast) nn.LSTM.fastpath = fast; local y = m:forward(x):clone(); "
                 "nn.LSTM.fastpath = true; return y end")
    fast = f(cast(xs, dtype), True)
    assert lua.eval("m.module.inputGate.output:nElement()") == 0
    slow = f(cast(xs, dtype), False)
    assert lua.eval("m.module.inputGate.output:nElement()") > 0
    np.testing.assert_allclose(fast, slow, **tol(dtype))
    if cell2gate == "true":
        np.testing.assert_allclose(fast, lstm_ref(c64(xs, dtype), *lstm_weights(lua, "m.module")), **tol(dtype))
    lua.execute("m.module:forget()")
    step = lua.eval("function(x) return m.module:forward(x):clone() end")
    np.testing.assert_allclose(np.stack([step(cast(x[1], dtype)) for x in xs]), slow[:, 1], **tol(dtype))
