"""Backward of the rnn package and of cudnn's RNNs: every module's gradInput and parameter
gradients against central differences in double (tests/gradcheck.py), SeqLSTM, SeqGRU and
cudnn.LSTM against a NumPy BPTT written here, Sequencer(RecLSTM/FastLSTM) against SeqLSTM
with the same weights, zero gradients on masked steps, the step protocol's errors, and a
few SGD steps that lower the loss of a tiny sequence task."""
import sys
import os

import numpy as np
import pytest

import sparktorch7 as st
from rnn_helpers import sig

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gradcheck import install  # noqa: E402

TOL = dict(rtol=1e-9, atol=1e-10)


@pytest.fixture
def lua():
    state = st.LuaState()
    install(state)
    state.execute("require 'rnn'; require 'cudnn'")
    yield state
    state.close()


def check(lua, what, module, inp, tol=1e-7):
    """gradcheck.<what>(m, inp) with m and inp Lua expressions: the largest error is small
    and the gradient checked is not zero."""
    lua.execute(f"torch.manualSeed(7); m = {module}; inp = {inp}")
    err, scale = lua.eval(f"(function() return gradcheck.{what}(m, inp) end)()")
    assert scale > 1e-3, f"{module}: the {what} gradient is {scale} (nothing checked)"
    assert err < tol * max(1.0, scale), f"{module}: {what} gradient off by {err} (scale {scale})"


SEQ = "torch.randn(5, 2, 3)"
MODULES = [
    # whole-sequence modules
    ("nn.SeqLSTM(3, 4)", SEQ),
    ("nn.SeqLSTM(3, 4)", "{torch.randn(2, 4), " + SEQ + "}"),
    ("nn.SeqLSTM(3, 4)", "{torch.randn(2, 4), torch.randn(2, 4), " + SEQ + "}"),
    ("nn.SeqLSTM(3, 5, 2)", SEQ),
    ("nn.SeqLSTMP(3, 5, 2)", SEQ),
    ("nn.SeqGRU(3, 4)", SEQ),
    ("nn.SeqGRU(3, 4)", "{torch.randn(2, 4), " + SEQ + "}"),
    ("nn.SeqBRNN(3, 4)", SEQ),
    ("nn.SeqBRNN(3, 4, true)", "torch.randn(2, 5, 3)"),
    ("nn.SeqBLSTM(3, 4)", SEQ),
    ("nn.SeqBGRU(3, 4)", SEQ),
    ("(function() local s = nn.SeqLSTM(3, 4); s.batchfirst = true; return s end)()", "torch.randn(2, 5, 3)"),
    # one-step modules
    ("nn.StepLSTM(3, 4)", "{torch.randn(2, 3), torch.randn(2, 4), torch.randn(2, 4)}"),
    ("nn.StepLSTM(3, 5, 4)", "{torch.randn(2, 3), torch.randn(2, 4), torch.randn(2, 5)}"),
    ("nn.StepLSTM(3, 4)", "{torch.randn(3), torch.randn(4), torch.randn(4)}"),
    ("nn.StepGRU(3, 4)", "{torch.randn(2, 3), torch.randn(2, 4)}"),
    # recurrent modules run over sequences (BPTT through the step clones)
    ("nn.Sequencer(nn.LSTM(3, 4))", SEQ),
    ("nn.Sequencer(nn.LSTM(3, 4, nil, false))", SEQ),
    ("nn.Sequencer(nn.FastLSTM(3, 4))", SEQ),
    ("nn.Sequencer(nn.GRU(3, 4))", SEQ),
    ("nn.Sequencer(nn.RecLSTM(3, 4))", SEQ),
    ("nn.Sequencer(nn.RecLSTM(3, 5, 4))", SEQ),
    ("nn.Sequencer(nn.RecGRU(3, 4))", SEQ),
    ("nn.Sequencer(nn.Recurrent(4, nn.Linear(3, 4), nn.Linear(4, 4), nn.Tanh(), 99))", SEQ),
    ("nn.Sequencer(nn.Recurrence(nn.Sequential():add(nn.ParallelTable():add(nn.Linear(3, 4))"
     ":add(nn.Linear(4, 4))):add(nn.CAddTable()):add(nn.Tanh()), 4, 1))", SEQ),
    ("nn.Sequencer(nn.Linear(3, 4))", SEQ),
    ("nn.Sequencer(nn.Sequential():add(nn.FastLSTM(3, 4)):add(nn.Linear(4, 2)))", SEQ),
    ("nn.Sequencer(nn.LSTM(3, 4))", "{torch.randn(2, 3), torch.randn(2, 3), torch.randn(2, 3)}"),
    ("nn.Sequencer(nn.MaskZero(nn.LSTM(3, 4), 1))", SEQ),
    ("nn.Sequencer(nn.LSTM(3, 4):maskZero(1))", SEQ),
    ("nn.Sequencer(nn.GRU(3, 4):trimZero(1))", SEQ),
    ("nn.BiSequencer(nn.LSTM(3, 4))", "{torch.randn(2, 3), torch.randn(2, 3), torch.randn(2, 3)}"),
    ("nn.Repeater(nn.LSTM(3, 4), 3)", "torch.randn(2, 3)"),
    ("nn.BiSequencerLM(nn.LSTM(3, 4))", "{torch.randn(2, 3), torch.randn(2, 3), torch.randn(2, 3), torch.randn(2, 3)}"),
    ("nn.Sequencer(nn.MuFuRu(3, 4))", SEQ),
    ("nn.Sequencer(nn.LinearRNN(3, 4))", SEQ),
    # torch/rnn's VariableLength: samples packed several to a column, masked steps between them
    ("nn.VariableLength(nn.SeqLSTM(3, 4))",
     "{torch.randn(3, 3), torch.randn(2, 3), torch.randn(1, 3), torch.randn(3, 3)}"),
    ("nn.VariableLength(nn.SeqLSTM(3, 4), true)", "{torch.randn(3, 3), torch.randn(2, 3), torch.randn(1, 3)}"),
    ("nn.VariableLength(nn.Sequencer(nn.RecGRU(3, 4)))", "{torch.randn(3, 3), torch.randn(2, 3), torch.randn(1, 3)}"),
    ("nn.VariableLength(nn.SeqBLSTM(3, 4))", "{torch.randn(3, 3), torch.randn(2, 3), torch.randn(1, 3)}"),
    # support modules
    ("nn.MaskZero(nn.Linear(3, 4), 1)", "torch.randn(4, 3)"),
    ("nn.TrimZero(nn.Linear(3, 4), 1)", "torch.randn(4, 3)"),
    # cudnn's RNNs (the flat weight)
    ("cudnn.LSTM(3, 4, 1)", SEQ),
    ("cudnn.LSTM(3, 4, 2)", SEQ),
    ("cudnn.LSTM(3, 4, 1, true)", "torch.randn(2, 5, 3)"),
    ("cudnn.GRU(3, 4, 2)", SEQ),
    ("cudnn.RNN(3, 4, 1)", SEQ),
    ("cudnn.RNNReLU(3, 4, 2)", SEQ),
    ("cudnn.RNNTanh(3, 4, 2)", SEQ),
    ("cudnn.BLSTM(3, 4, 2)", SEQ),
    ("cudnn.BGRU(3, 4, 1)", SEQ),
]


@pytest.mark.parametrize("module,inp", MODULES)
def test_gradients_match_finite_differences(lua, module, inp):
    check(lua, "module", module, inp)
    check(lua, "params", module, inp)


@pytest.mark.parametrize("module,inp", [
    ("nn.SAdd(-1, true)", "torch.randn(3, 4)"),
    ("nn.SAdd(2)", "torch.randn(3, 4)"),
    ("nn.ExpandAs()", "{torch.randn(3, 4), torch.randn(3, 1)}"),
    ("nn.SeqReverseSequence(1)", SEQ),
    ("nn.SeqReverseSequence(2)", SEQ),
])
def test_parameterless_gradients(lua, module, inp):
    check(lua, "module", module, inp)


@pytest.mark.parametrize("crit,inp,target", [
    ("nn.SequencerCriterion(nn.MSECriterion())", SEQ, "torch.randn(5, 2, 3)"),
    ("nn.SequencerCriterion(nn.MSECriterion(), true)", "{torch.randn(2, 3), torch.randn(2, 3)}",
     "{torch.randn(2, 3), torch.randn(2, 3)}"),
    ("nn.RepeaterCriterion(nn.MSECriterion())", SEQ, "torch.randn(2, 3)"),
    ("nn.MaskZeroCriterion(nn.MSECriterion(), 1)", "torch.randn(4, 3)", "torch.randn(4, 3)"),
])
def test_criteria_gradients(lua, crit, inp, target):
    lua.execute(f"torch.manualSeed(3); c = {crit}; inp = {inp}; tgt = {target}")
    err, scale = lua.eval("(function() return gradcheck.criterion(c, inp, tgt) end)()")
    assert scale > 1e-3 and err < 1e-7 * max(1, scale)


# ------------------------------------------------------------------ NumPy BPTT references

def lstm_bptt(x, W, b, gy, h0=None, c0=None):
    """SeqLSTM's layout (W (D+H, 4H), gates i f o g) forward and backward, step by step."""
    T, N, D = x.shape
    H = W.shape[1] // 4
    h = np.zeros((N, H)) if h0 is None else h0
    c = np.zeros((N, H)) if c0 is None else c0
    cache = []
    for t in range(T):
        a = x[t] @ W[:D] + h @ W[D:] + b
        i, f, o, g = sig(a[:, :H]), sig(a[:, H:2 * H]), sig(a[:, 2 * H:3 * H]), np.tanh(a[:, 3 * H:])
        cn = f * c + i * g
        cache.append((h, c, i, f, o, g, cn))
        h, c = o * np.tanh(cn), cn
    dW, db, dx = np.zeros_like(W), np.zeros_like(b), np.zeros_like(x)
    dh, dc = np.zeros((N, H)), np.zeros((N, H))
    for t in reversed(range(T)):
        hp, cp, i, f, o, g, cn = cache[t]
        dh = dh + gy[t]
        do = dh * np.tanh(cn)
        dc = dc + dh * o * (1 - np.tanh(cn) ** 2)
        da = np.concatenate([dc * g * i * (1 - i), dc * cp * f * (1 - f), do * o * (1 - o), dc * i * (1 - g * g)], 1)
        dW[:D] += x[t].T @ da
        dW[D:] += hp.T @ da
        db += da.sum(0)
        dx[t] = da @ W[:D].T
        dh = da @ W[D:].T
        dc = dc * f
    return dx, dW, db, dh, dc


def gru_bptt(x, W, b, gy):
    """SeqGRU's layout (W (D+H, 3H), gates r u c) forward and backward, step by step."""
    T, N, D = x.shape
    H = W.shape[1] // 3
    h = np.zeros((N, H))
    cache = []
    for t in range(T):
        a = x[t] @ W[:D] + b
        r = sig(a[:, :H] + h @ W[D:, :H])
        u = sig(a[:, H:2 * H] + h @ W[D:, H:2 * H])
        hc = np.tanh(a[:, 2 * H:] + (r * h) @ W[D:, 2 * H:])
        cache.append((h, r, u, hc))
        h = (1 - u) * hc + u * h
    dW, db, dx = np.zeros_like(W), np.zeros_like(b), np.zeros_like(x)
    dh = np.zeros((N, H))
    for t in reversed(range(T)):
        hp, r, u, hc = cache[t]
        dh = dh + gy[t]
        dac = dh * (1 - u) * (1 - hc ** 2)
        dau = dh * (hp - hc) * u * (1 - u)
        drh = dac @ W[D:, 2 * H:].T
        dar = drh * hp * r * (1 - r)
        da = np.concatenate([dar, dau, dac], 1)
        dW[:D] += x[t].T @ da
        dW[D:, :2 * H] += hp.T @ da[:, :2 * H]
        dW[D:, 2 * H:] += (r * hp).T @ dac
        db += da.sum(0)
        dx[t] = da @ W[:D].T
        dh = dh * u + drh * r + da[:, :2 * H] @ W[D:, :2 * H].T
    return dx, dW, db, dh


def test_seqlstm_against_numpy_bptt(lua):
    r = np.random.default_rng(1)
    x, gy = r.standard_normal((6, 3, 4)), r.standard_normal((6, 3, 5))
    h0, c0 = r.standard_normal((3, 5)), r.standard_normal((3, 5))
    lua.execute("m = nn.SeqLSTM(4, 5); m.weight:normal(0, 0.4); m.bias:normal(0, 0.2)")
    W, b = lua.eval("m.weight:clone()"), lua.eval("m.bias:clone()")
    run = lua.eval("""function(c0, h0, x, gy)
        m:zeroGradParameters(); m:forward({c0, h0, x})
        local gi = m:backward({c0, h0, x}, gy)
        return gi[1]:clone(), gi[2]:clone(), gi[3]:clone(), m.gradWeight:clone(), m.gradBias:clone() end""")
    gc0, gh0, gx, gW, gb = run(c0, h0, x, gy)
    dx, dW, db, dh, dc = lstm_bptt(x, W, b, gy, h0, c0)
    for got, want in [(gx, dx), (gW, dW), (gb, db), (gh0, dh), (gc0, dc)]:
        np.testing.assert_allclose(got, want, **TOL)
    # accGradParameters accumulates, scaled
    run2 = lua.eval("""function(x, gy)
        m:zeroGradParameters(); m:forward(x); m:updateGradInput(x, gy); m:accGradParameters(x, gy, 0.5)
        m:accGradParameters(x, gy, 0.25)
        return m.gradInput:clone(), m.gradWeight:clone() end""")
    gx, gW = run2(x, gy)
    dx, dW, _, _, _ = lstm_bptt(x, W, b, gy)
    np.testing.assert_allclose(gx, dx, **TOL)
    np.testing.assert_allclose(gW, 0.75 * dW, **TOL)


def test_seqgru_against_numpy_bptt(lua):
    r = np.random.default_rng(2)
    x, gy = r.standard_normal((5, 2, 3)), r.standard_normal((5, 2, 4))
    lua.execute("m = nn.SeqGRU(3, 4); m.weight:normal(0, 0.5); m.bias:normal(0, 0.2)")
    W, b = lua.eval("m.weight:clone()"), lua.eval("m.bias:clone()")
    run = lua.eval("""function(x, gy)
        m:zeroGradParameters(); m:forward(x); local gi = m:backward(x, gy)
        return gi:clone(), m.gradWeight:clone(), m.gradBias:clone(), m.userGradPrevOutput:clone() end""")
    gx, gW, gb, gh0 = run(x, gy)
    dx, dW, db, dh0 = gru_bptt(x, W, b, gy)
    for got, want in [(gx, dx), (gW, dW), (gb, db), (gh0, dh0)]:
        np.testing.assert_allclose(got, want, **TOL)


def test_cudnn_lstm_against_numpy_bptt(lua):
    """cudnn.LSTM's flat weight (W then R for the gates i f g o, then bW and bR) read here,
    its gradients from the NumPy BPTT of the same LSTM in SeqLSTM's layout."""
    r = np.random.default_rng(3)
    D, H = 3, 4
    x, gy = r.standard_normal((5, 2, D)), r.standard_normal((5, 2, H))
    lua.execute(f"m = cudnn.LSTM({D}, {H}, 1):double(); m.weight:normal(0, 0.4)")
    flat = lua.eval("m.weight:clone()")
    Wc = flat[:4 * H * D].reshape(4 * H, D)
    Rc = flat[4 * H * D:4 * H * (D + H)].reshape(4 * H, H)
    bW = flat[4 * H * (D + H):4 * H * (D + H + 1)]
    bR = flat[4 * H * (D + H + 1):]
    order = [0, 1, 3, 2]   # cudnn i f g o -> SeqLSTM i f o g
    perm = np.concatenate([np.arange(k * H, (k + 1) * H) for k in order])
    W = np.concatenate([Wc[perm].T, Rc[perm].T], 0)
    b = (bW + bR)[perm]
    run = lua.eval("""function(x, gy)
        m:zeroGradParameters(); m:forward(x); local gi = m:backward(x, gy)
        return gi:clone(), m.gradWeight:clone(), m.gradHiddenInput:clone(), m.gradCellInput:clone() end""")
    gx, gflat, ghx, gcx = run(x, gy)
    dx, dW, db, dh, dc = lstm_bptt(x, W, b, gy)
    inv = np.argsort(perm)
    np.testing.assert_allclose(gx, dx, **TOL)
    np.testing.assert_allclose(gflat[:4 * H * D].reshape(4 * H, D), dW[:D].T[inv], **TOL)
    np.testing.assert_allclose(gflat[4 * H * D:4 * H * (D + H)].reshape(4 * H, H), dW[D:].T[inv], **TOL)
    np.testing.assert_allclose(gflat[4 * H * (D + H):4 * H * (D + H + 1)], db[inv], **TOL)
    np.testing.assert_allclose(gflat[4 * H * (D + H + 1):], db[inv], **TOL)
    np.testing.assert_allclose(ghx[0], dh, **TOL)
    np.testing.assert_allclose(gcx[0], dc, **TOL)


def test_sequencer_lstms_match_seqlstm(lua):
    """Sequencer(RecLSTM) shares SeqLSTM's layout; FastLSTM holds the same LSTM as nn.Linear
    weights with the gates i g f o: with copied weights all three give the same gradients."""
    r = np.random.default_rng(4)
    x, gy = r.standard_normal((4, 2, 3)), r.standard_normal((4, 2, 5))
    lua.execute("""
        s = nn.SeqLSTM(3, 5); s.weight:normal(0, 0.4); s.bias:normal(0, 0.2)
        rec = nn.Sequencer(nn.RecLSTM(3, 5))
        local step = rec.module.modules[1]
        step.weight:copy(s.weight); step.bias:copy(s.bias)
        fast = nn.Sequencer(nn.FastLSTM(3, 5))
        local f = fast.module
        local H, D = 5, 3
        local order = {1, 4, 2, 3}    -- FastLSTM's i g f o from SeqLSTM's i f o g
        for k, src in ipairs(order) do
           local rows = {(k - 1) * H + 1, k * H}
           local cols = {(src - 1) * H + 1, src * H}
           f.i2g.weight[{rows}]:copy(s.weight[{{1, D}, cols}]:t())
           f.o2g.weight[{rows}]:copy(s.weight[{{D + 1, D + H}, cols}]:t())
           f.i2g.bias[{rows}]:copy(s.bias[{cols}])
        end
    """)
    run = lua.eval("""function(name, x, gy)
        local m = _G[name]
        m:zeroGradParameters(); m:forward(x)
        local gi = m:backward(x, gy):clone()
        local _, g = m:parameters()
        local out = {gi}
        for i, t in ipairs(g) do out[i + 1] = t:clone() end
        return out end""")
    ref = run("s", x, gy)
    got = run("rec", x, gy)
    np.testing.assert_allclose(got[1], ref[1], **TOL)
    np.testing.assert_allclose(got[2], ref[2], **TOL)
    np.testing.assert_allclose(got[3], ref[3], **TOL)
    fast = run("fast", x, gy)
    np.testing.assert_allclose(fast[1], ref[1], **TOL)
    H, D = 5, 3
    src = [0, 3, 1, 2]
    for k, s in enumerate(src):
        np.testing.assert_allclose(fast[2][k * H:(k + 1) * H], ref[2][:D, s * H:(s + 1) * H].T, **TOL)
        np.testing.assert_allclose(fast[3][k * H:(k + 1) * H], ref[3][s * H:(s + 1) * H], **TOL)
        np.testing.assert_allclose(fast[4][k * H:(k + 1) * H], ref[2][D:, s * H:(s + 1) * H].T, **TOL)


@pytest.mark.parametrize("module", ["nn.SeqLSTM(3, 4)", "nn.SeqGRU(3, 4)",
                                    "nn.Sequencer(nn.RecLSTM(3, 4))", "nn.Sequencer(nn.RecGRU(3, 4))"])
def test_masked_steps_get_zero_gradient(lua, module):
    """torch/rnn's zeroMask: the masked steps of a sample get no input gradient, the sample's
    later steps start again from zeros (no gradient reaches its earlier steps either), and
    the gradients still match finite differences (the mask does not depend on x)."""
    lua.execute(f"""
        torch.manualSeed(5)
        m = {module}:maskZero()
        m.v2 = true         -- Element-Research's SeqLSTM/SeqGRU mask zero rows unless told (torch/rnn's v2)
        zm = torch.ByteTensor(5, 2):zero(); zm[3][1] = 1; zm[5][2] = 1
        -- torch/rnn: the recurrent modules take the zeroMask anew before each sequence
        local forward = m.updateOutput
        m.updateOutput = function(self, x) self:setZeroMask(zm); return forward(self, x) end
        inp = torch.randn(5, 2, 3)
    """)
    gx = lua.eval("(function() m:forward(inp); return m:backward(inp, torch.randn(5, 2, 4)):clone() end)()")
    assert np.all(gx[2, 0] == 0) and np.all(gx[4, 1] == 0)
    # sample 1 restarts after step 3: steps 1-2 get gradient only from their own outputs
    lua.execute("g = torch.zeros(5, 2, 4); g[{{4, 5}, 1}]:normal()")
    gx = lua.eval("(function() m:forward(inp); return m:backward(inp, g):clone() end)()")
    assert np.all(gx[:3, 0] == 0) and np.abs(gx[3:, 0]).max() > 1e-6
    err, scale = lua.eval("(function() return gradcheck.module(m, inp) end)()")
    assert scale > 1e-3 and err < 1e-7 * max(1, scale)
    err, scale = lua.eval("(function() return gradcheck.params(m, inp) end)()")
    assert scale > 1e-3 and err < 1e-7 * max(1, scale)


def test_maskzero_v1_zero_rows_get_zero_gradient(lua):
    """Element-Research rnn's maskZero(nInputDim): all-zero input rows get zero gradient,
    as does everything before them in that sample (its state was reset)."""
    lua.execute("""
        torch.manualSeed(6)
        m = nn.Sequencer(nn.LSTM(3, 4):maskZero(1))
        inp = torch.randn(4, 2, 3); inp[2][1]:zero()
        g = torch.zeros(4, 2, 4); g[{{3, 4}}]:normal()
    """)
    gx = lua.eval("(function() m:forward(inp); return m:backward(inp, g):clone() end)()")
    assert np.all(gx[:2, 0] == 0)
    assert np.abs(gx[:2, 1]).max() > 1e-6 and np.abs(gx[2:, 0]).max() > 1e-6


def test_remember_bptt_stays_in_the_last_sequence(lua):
    """remember(): the second forward continues the first; its backward runs over its own
    steps (from the step clones of steps 4-6) and matches a Sequencer that saw only the
    second part starting from the state the first left."""
    lua.execute("""
        torch.manualSeed(8)
        lstm = nn.RecLSTM(3, 4)
        m = nn.Sequencer(lstm):remember('both')
        x1, x2, g = torch.randn(3, 2, 3), torch.randn(3, 2, 3), torch.randn(3, 2, 4)
        m:forward(x1)
        local h, c = lstm.outputs[3]:clone(), lstm.cells[3]:clone()
        m:zeroGradParameters(); m:forward(x2); gx = m:backward(x2, g):clone()
        gw = lstm.modules[1].gradWeight:clone()
        gh0 = lstm:getGradHiddenState(3)
        ref = nn.Sequencer(nn.RecLSTM(3, 4))
        ref.module.modules[1].weight:copy(lstm.modules[1].weight)
        ref.module.modules[1].bias:copy(lstm.modules[1].bias)
        ref.module:setStartState({h, c})
        ref:zeroGradParameters(); ref:forward(x2); rgx = ref:backward(x2, g):clone()
        rgw = ref.module.modules[1].gradWeight:clone()
        rgh0 = ref.module:getGradHiddenState(0)
    """)
    np.testing.assert_allclose(lua.eval("gx"), lua.eval("rgx"), **TOL)
    np.testing.assert_allclose(lua.eval("gw"), lua.eval("rgw"), **TOL)
    np.testing.assert_allclose(lua.eval("gh0[1]"), lua.eval("rgh0[1]"), **TOL)
    np.testing.assert_allclose(lua.eval("gh0[2]"), lua.eval("rgh0[2]"), **TOL)
    assert np.abs(lua.eval("rgh0[1]")).max() > 1e-6


def test_get_parameters_and_zero_grad(lua):
    """getParameters flattens the step module's weights; the step clones keep sharing them:
    backward fills the flat gradient, zeroGradParameters clears it, and it matches finite
    differences on the flat parameters."""
    lua.execute("""
        torch.manualSeed(9)
        m = nn.Sequencer(nn.Sequential():add(nn.LSTM(3, 4)):add(nn.Linear(4, 2)))
        inp = torch.randn(4, 2, 3)
        m:forward(inp)                              -- clones made before flattening
        w, gw = m:getParameters()
        R = torch.randn(4, 2, 2)
        m:zeroGradParameters(); m:forward(inp); m:backward(inp, R)
        analytic = gw:clone()
        numeric = torch.zeros(w:nElement())
        for i = 1, w:nElement() do
           local v = w[i]
           w[i] = v + 1e-6; local fp = m:forward(inp):clone():cmul(R):sum()
           w[i] = v - 1e-6; local fm = m:forward(inp):clone():cmul(R):sum()
           w[i] = v
           numeric[i] = (fp - fm) / 2e-6
        end
        m:zeroGradParameters()
    """)
    n = lua.eval("w:nElement()")
    # LSTM(3, 4): three gates of Linear(3, 4), LinearNoBias(4, 4), CMul(4), the candidate without
    # CMul; then Linear(4, 2)
    assert n == 3 * (12 + 4 + 16 + 4) + (12 + 4 + 16) + (8 + 2)
    np.testing.assert_allclose(lua.eval("analytic"), lua.eval("numeric"), rtol=1e-6, atol=1e-8)
    assert np.abs(lua.eval("analytic")).max() > 1e-3
    assert np.all(lua.eval("gw") == 0)


def test_sgd_lowers_the_loss(lua):
    """A few SGD steps on a tiny sequence task (predict the running sum's sign) lower the
    SequencerCriterion's loss, for a Sequencer(FastLSTM) and a SeqGRU, and cudnn.LSTM."""
    losses = lua.eval("""(function()
        torch.manualSeed(10)
        local x = torch.randn(6, 8, 2)
        local y = torch.cumsum(x:select(3, 1), 1):gt(0):double():view(6, 8, 1) * 2 - 1
        local out = {}
        for _, mk in ipairs({
              function() return nn.Sequential():add(nn.Sequencer(nn.FastLSTM(2, 6)))
                                                :add(nn.Sequencer(nn.Linear(6, 1))) end,
              function() return nn.Sequential():add(nn.SeqGRU(2, 6)):add(nn.Sequencer(nn.Linear(6, 1))) end,
              function() return nn.Sequential():add(cudnn.LSTM(2, 6, 1):double())
                                                :add(nn.Sequencer(nn.Linear(6, 1))) end}) do
           local m = mk()
           local crit = nn.SequencerCriterion(nn.MSECriterion())
           local first, last
           for it = 1, 30 do
              local pred = m:forward(x)
              local loss = crit:forward(pred, y)
              first = first or loss
              last = loss
              m:zeroGradParameters()
              m:backward(x, crit:backward(pred, y))
              m:updateParameters(0.03)
           end
           out[#out + 1] = {first, last}
        end
        return out end)()""")
    for k in (1, 2, 3):
        first, last = losses[k][1], losses[k][2]
        assert last < 0.7 * first, (k, first, last)


# ------------------------------------------------------------------ errors

@pytest.mark.parametrize("src,msg", [
    ("m = nn.Sequencer(nn.LSTM(3, 4)); x = torch.randn(3, 2, 3); m:evaluate(); m:forward(x); "
     "m:backward(x, torch.randn(3, 2, 4))", "needs training mode"),
    ("m = nn.Sequencer(nn.LSTM(3, 4)); x = torch.randn(3, 2, 3); m:forward(x); m:backward(x, torch.randn(2, 2, 4))",
     "gradOutput must have a step per input step (3), got 2 steps"),
    ("m = nn.LSTM(3, 4); m:forward(torch.randn(2, 3)); m:backward(torch.randn(2, 3), torch.randn(2, 4)); "
     "m:backward(torch.randn(2, 3), torch.randn(2, 4))", "more steps than forward ran"),
    ("m = nn.LSTM(3, 4, 2); x = torch.randn(2, 3); for i = 1, 5 do m:forward(x) end; "
     "for i = 1, 5 do m:backward(x, torch.randn(2, 4)) end", "backward for step 2, but only the last 3 steps are kept"),
    ("m = nn.SeqLSTM(3, 4); x = torch.randn(3, 2, 3); m:forward(x); m:backward(x, torch.randn(3, 2, 5))",
     "gradOutput must be 3x2x4"),
    ("m = nn.SeqGRU(3, 4); m:backward(torch.randn(3, 2, 3), torch.randn(3, 2, 4))",
     "backward needs the forward of the same input first"),
    ("m = nn.StepLSTM(3, 4); x = {torch.randn(2, 3), torch.randn(2, 4), torch.randn(2, 4)}; m:forward(x); "
     "m:backward(x, torch.randn(2, 4))", "gradOutput must be a table of 2 tensors"),
    ("m = cudnn.LSTM(3, 4, 1):double(); x = torch.randn(3, 2, 3); m:forward(x); m:backward(x, torch.randn(3, 2, 5))",
     "gradOutput must be a torch.DoubleTensor sized as the output (3x2x4)"),
    ("m = cudnn.LSTM(3, 4, 1):double(); x = torch.randn(3, 2, 3); m:forward(x); m:evaluate(); "
     "m:backward(x, torch.randn(3, 2, 4))", "only be called when training"),
    ("m = nn.VariableLength(nn.SeqLSTM(3, 4)); x = {torch.randn(2, 3), torch.randn(1, 3)}; m:forward(x); "
     "m:backward(x, {torch.randn(2, 4)})", "gradOutput must be a table of 2 tensors (one per sample)"),
    ("m = nn.LSTM(3, 4); x = torch.randn(2, 3); m:forward(x); m:accGradParameters(x, torch.randn(2, 4))",
     "accGradParameters for step 1 before its updateGradInput"),
    ("m = nn.Repeater(nn.LSTM(3, 4), 3); x = torch.randn(2, 3); m:forward(x); m:backward(x, {torch.randn(2, 4)})",
     "gradOutput must be a table of rho (3) step gradients"),
])
def test_bad_backward_calls_raise_clear_errors(lua, src, msg):
    with pytest.raises(st.LuaError) as e:
        lua.execute(src)
    assert msg in str(e.value)


@pytest.mark.parametrize("module", ["nn.Sequencer(nn.LSTM(3, 4))", "nn.Sequencer(nn.RecGRU(3, 4))",
                                    "nn.SeqLSTM(3, 4)", "nn.SeqGRU(3, 4)", "cudnn.GRU(3, 4, 1):double()"])
def test_backward_update_moves_the_weights_by_the_gradient(lua, module):
    """backwardUpdate(x, g, lr) = the weights minus lr times the gradient backward gives (as
    Torch7 does for modules sharing parameters)."""
    lua.execute(f"""
        torch.manualSeed(11)
        m = {module}
        x, g = torch.randn(4, 2, 3), torch.randn(4, 2, 4)
        local w, gw = m:getParameters()     -- once, as in Torch7 (it flattens anew each call)
        w0 = w:clone()
        m:zeroGradParameters(); m:forward(x); m:backward(x, g)
        grad = gw:clone()
        m:forward(x); m:backwardUpdate(x, g, 0.1)
        w1 = w:clone()
    """)
    w0, w1, grad = lua.eval("w0"), lua.eval("w1"), lua.eval("grad")
    assert np.abs(grad).max() > 1e-3
    np.testing.assert_allclose(w1, w0 - 0.1 * grad, rtol=1e-9, atol=1e-11)


@pytest.mark.parametrize("module", ["nn.SeqLSTMP(3, 5, 4)", "nn.SeqGRU(3, 4)", "nn.Sequencer(nn.RecLSTM(3, 4))",
                                    "nn.Sequencer(nn.FastLSTM(3, 4))", "cudnn.BLSTM(3, 2, 2)"])
def test_float_backward_agrees_with_double(lua, module):
    """The same module in float: its gradients are the double ones to float precision."""
    lua.execute(f"""
        torch.manualSeed(12)
        md = {module}:double(); mf = md:clone():float()
        x = torch.randn(4, 2, 3); g = torch.randn(md:forward(x):size())
        md:zeroGradParameters(); mf:zeroGradParameters()
        gd = md:backward(x, g):clone(); _, pd = md:getParameters()
        mf:forward(x:float()); gf = mf:backward(x:float(), g:float()):double(); _, pf = mf:getParameters()
    """)
    assert lua.eval("torch.type(mf:parameters()[1])") == "torch.FloatTensor"
    np.testing.assert_allclose(lua.eval("gf"), lua.eval("gd"), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(lua.eval("pf:double()"), lua.eval("pd"), rtol=1e-4, atol=1e-5)
    assert np.abs(lua.eval("pd")).max() > 1e-3



def test_norm_stabilizer_adds_the_penalty_gradient(lua):
    """NormStabilizer is the identity; its backward adds the gradient of
    beta * sum_t mean_batch (||h(t)|| - ||h(t-1)||)^2, computed here by central differences."""
    r = np.random.default_rng(13)
    x, g = r.standard_normal((4, 3, 5)), r.standard_normal((4, 3, 5))
    got = lua.eval("""function(x, g) local m = nn.Sequencer(nn.NormStabilizer(0.7))
        m:forward(x); return m:backward(x, g):clone() end""")(x, g)

    def penalty(v):
        n = np.linalg.norm(v, axis=2)
        return 0.7 * ((n[1:] - n[:-1]) ** 2).mean(axis=1).sum()

    num = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        xp, xm = x.copy(), x.copy()
        xp[i] += 1e-6
        xm[i] -= 1e-6
        num[i] = (penalty(xp) - penalty(xm)) / 2e-6
    assert np.abs(num).max() > 1e-2
    np.testing.assert_allclose(got, g + num, rtol=1e-6, atol=1e-8)


def test_encoder_decoder_through_grad_hidden_state(lua):
    """Element-Research rnn's encoder-decoder coupling: the decoder starts from the encoder's
    last state (userPrevOutput/userPrevCell), its getGradHiddenState(0) goes back into the
    encoder with setGradHiddenState: the encoder's gradients are those of the whole chain,
    checked by central differences on the encoder's weights."""
    lua.execute("""
        torch.manualSeed(14)
        enc, dec = nn.LSTM(3, 4), nn.LSTM(3, 4)
        encSeq, decSeq = nn.Sequencer(enc), nn.Sequencer(dec)
        xe, xd, g = torch.randn(3, 2, 3), torch.randn(2, 2, 3), torch.randn(2, 2, 4)
        function loss()
           encSeq:forward(xe)
           dec.userPrevOutput = enc.outputs[3]:clone(); dec.userPrevCell = enc.cells[3]:clone()
           return decSeq:forward(xd):clone():cmul(g):sum()
        end
        loss()
        encSeq:zeroGradParameters(); decSeq:zeroGradParameters()
        decSeq:backward(xd, g)
        local gs = dec:getGradHiddenState(0)
        enc:setGradHiddenState(3, {gs[1]:clone(), gs[2]:clone()})
        encSeq:backward(xe, torch.zeros(3, 2, 4))
        w, gw = enc:parameters()
        analytic, numeric = {}, {}
        for k = 1, #w do
           analytic[k] = gw[k]:clone()
           numeric[k] = torch.zeros(w[k]:nElement())
           local flat = w[k]:view(-1)
           for i = 1, flat:nElement() do
              local v = flat[i]
              flat[i] = v + 1e-6; local fp = loss()
              flat[i] = v - 1e-6; local fm = loss()
              flat[i] = v
              numeric[k][i] = (fp - fm) / 2e-6
           end
        end
    """)
    n = lua.eval("#w")
    biggest = 0
    for k in range(1, n + 1):
        a = lua.eval(f"analytic[{k}]:view(-1)")
        np.testing.assert_allclose(a, lua.eval(f"numeric[{k}]"), rtol=1e-6, atol=1e-8)
        biggest = max(biggest, np.abs(a).max())
    assert biggest > 1e-3


def test_lazy_mono_dropout_backward_masks_the_gradient(lua):
    """rnn's lazy/mono dropout (LSTM(..., p, mono)): the gradient is gradOutput times the mask
    forward used (one row for the whole batch with mono), and a lazy dropout samples a new
    mask at the forward after a backward."""
    lua.execute("""
        torch.manualSeed(15)
        d = require('rnn.extensions').lazyDropout(0.5, true)
        x = torch.rand(4, 6) + 1
        y = d:forward(x):clone()
        gi = d:backward(x, torch.ones(4, 6)):clone()
        y2 = d:forward(x):clone()
    """)
    y, gi, x, y2 = lua.eval("y"), lua.eval("gi"), lua.eval("x"), lua.eval("y2")
    mask = y / x
    assert np.all(mask == mask[0]) and 0 < np.count_nonzero(mask[0]) < 6     # mono: one row
    np.testing.assert_array_equal(gi, mask)
    lua.execute("torch.manualSeed(16)")
    draws = lua.eval("""(function() local masks = {}
        for i = 1, 6 do d:forward(x); d:backward(x, torch.ones(4, 6)); masks[i] = d.noise:clone() end
        local same = 0
        for i = 2, 6 do if masks[i]:equal(masks[1]) then same = same + 1 end end
        return same end)()""")
    assert draws < 5           # a new mask after each backward (5 equal draws: p = 2^-30)


def test_lookup_table_mask_zero_backward(lua):
    """LookupTableMaskZero: index 0 reads the zero padding row, which gets no gradient; the
    other rows get the gradients of their indices."""
    lua.execute("""
        m = nn.LookupTableMaskZero(5, 3)
        idx = torch.LongTensor{{0, 2, 2}, {5, 0, 1}}
        g = torch.randn(2, 3, 3)
        m:zeroGradParameters(); m:forward(idx); m:backward(idx, g)
    """)
    gw, g = lua.eval("m.gradWeight"), lua.eval("g")
    want = np.zeros((6, 3))
    for (i, j), k in np.ndenumerate(np.array([[0, 2, 2], [5, 0, 1]])):
        if k:
            want[k] += g[i, j]
    np.testing.assert_allclose(gw, want, **TOL)


@pytest.mark.parametrize("seq,convert", [("nn.SeqLSTM(3, 4)", "toFastLSTM"), ("nn.SeqGRU(3, 4)", "toGRU")])
def test_conversions_carry_weights_and_gradients(lua, seq, convert):
    """SeqLSTM:toFastLSTM() and SeqGRU:toGRU() (Element-Research rnn): the one-step twin gives
    the same outputs, and the gradients copied from the sequence module are those the twin
    computes itself under a Sequencer."""
    lua.execute(f"""
        torch.manualSeed(17)
        s = {seq}; s.weight:normal(0, 0.4); s.bias:normal(0, 0.2)
        x, g = torch.randn(4, 2, 3), torch.randn(4, 2, 4)
        s:zeroGradParameters(); out = s:forward(x):clone(); gi = s:backward(x, g):clone()
        twin = s:{convert}()
        copied = {{}}
        for i, t in ipairs(select(2, twin:parameters())) do copied[i] = t:clone() end
        seq2 = nn.Sequencer(twin)
        out2 = seq2:forward(x):clone()
        seq2:zeroGradParameters(); gi2 = seq2:backward(x, g):clone()
        own = select(2, twin:parameters())
    """)
    np.testing.assert_allclose(lua.eval("out2"), lua.eval("out"), **TOL)
    np.testing.assert_allclose(lua.eval("gi2"), lua.eval("gi"), **TOL)
    for i in range(1, lua.eval("#own") + 1):
        np.testing.assert_allclose(lua.eval(f"own[{i}]"), lua.eval(f"copied[{i}]"), **TOL)
    assert np.abs(lua.eval("own[1]")).max() > 1e-3


RECURRENT_ATTENTION = """(function()
  local D, H = 3, 4
  local inputLayer = nn.Sequential():add(nn.SelectTable(1)):add(nn.Linear(D, H))
  local r = nn.Recurrent(H, inputLayer, nn.Linear(H, H), nn.Tanh(), 99)
  local action = nn.Sequential():add(nn.Linear(H, 2)):add(nn.Tanh())
  local m = nn.RecurrentAttention(r, action, 3, {H})
  m.forwardActions = true
  return m
end)()"""


@pytest.mark.parametrize("what", ["module", "params"])
def test_recurrent_attention_backward_through_time_with_forwarded_actions(lua, what):
    # forwardActions: each step's output is {rnn output, action} and both get a gradient, which
    # flows back through the action into the previous hidden state. As in Element-Research rnn,
    # the rnn's gradient with respect to the action it read is not sent into the action (REINFORCE
    # trains it): the rnn here reads only the input, so differences give the exact gradient of
    # the input and of every parameter (the rnn's and the action's)
    check(lua, what, RECURRENT_ATTENTION, "torch.randn(2, 3)", tol=1e-6)


def test_recurrent_attention_with_reinforce_locator_trains_on_the_reward():
    # the RAM layout: a REINFORCE locator gets the reward from VRClassReward; backward runs and
    # the locator's gradient is the REINFORCE gradient of its mean
    with st.LuaState() as lua:
        lua.execute("require 'rnn'; torch.manualSeed(2)")
        lua.execute("""
          local D, H = 3, 4
          local inputLayer = nn.Sequential():add(nn.JoinTable(1, 1)):add(nn.Linear(D + 2, H))
          local r = nn.Recurrent(H, inputLayer, nn.Linear(H, H), nn.Tanh(), 99)
          sampler = nn.ReinforceNormal(0.2)
          locator = nn.Sequential():add(nn.Linear(H, 2)):add(nn.HardTanh()):add(sampler)
          ra = nn.RecurrentAttention(r, locator, 2, {H})
          x = torch.randn(3, D)
          out = ra:forward(x)
          ra:reinforce(torch.Tensor({1, -1, 0.5}))     -- as a reward criterion does: every step's clone
          go = {torch.zeros(3, H), torch.randn(3, H)}
          ra:zeroGradParameters()
          g = ra:backward(x, go)""")
        assert lua.eval("g:size(1)") == 3 and lua.eval("g:size(2)") == 3
        assert np.abs(lua.eval("locator.modules[1].gradWeight")).sum() > 0
        with pytest.raises(st.LuaError, match=r"<nn.RecurrentAttention> gradOutput must be a table of 2 steps"):
            lua.execute("ra:backward(x, {torch.zeros(3, 4)})")
