"""torch/rnn (the successor of Element-Research rnn): the classes its models save (RecLSTM,
RecGRU, StepLSTM, StepGRU, LinearRNN, LookupRNN, SeqBLSTM, SeqBGRU, VariableLength, MuFuRu,
ReverseSequence) and its zero masking (maskZero / setZeroMask, version 1 and 2), each
against a NumPy recurrence written here from the module's own weights, float and double,
batch and single sample; files laid out as torch/rnn writes them (written by tests/t7craft.py,
not by this runtime) load and forward."""
import numpy as np
import pytest

import sparktorch7 as st
from rnn_helpers import DTYPES, TNAME, sig, tol, rnn_lua  # noqa: F401 (a fixture)
import t7craft as c



@pytest.fixture
def lua(rnn_lua):
    return rnn_lua


def get(lua, expr):
    return np.array(lua.eval(expr), dtype=np.float64)


def put(lua, name, arr, dtype):
    lua.globals()[name] = np.ascontiguousarray(arr, dtype=dtype)


# ---------------------------------------------------------------- references
def lstm_ref(x, W, b, WO=None, h0=None, c0=None, mask=None):
    """x (T, N, D); W (D+R, 4H), gates [i f o g]; WO (H, R) projects; mask (T, N) zeroes h, c."""
    T, N, D = x.shape
    H = W.shape[1] // 4
    R = W.shape[0] - D
    h = np.zeros((N, R)) if h0 is None else h0.astype(np.float64)
    cc = np.zeros((N, H)) if c0 is None else c0.astype(np.float64)
    hs, cs = [], []
    for t in range(T):
        a = x[t] @ W[:D] + h @ W[D:] + b
        i, f, o, g = sig(a[:, :H]), sig(a[:, H:2 * H]), sig(a[:, 2 * H:3 * H]), np.tanh(a[:, 3 * H:])
        cc = f * cc + i * g
        h = o * np.tanh(cc)
        if WO is not None:
            h = h @ WO
        if mask is not None:
            h, cc = h.copy(), cc.copy()
            h[mask[t] != 0] = 0
            cc[mask[t] != 0] = 0
        hs.append(h)
        cs.append(cc)
    return np.stack(hs), np.stack(cs)


def gru_ref(x, W, b, h0=None, mask=None):
    """x (T, N, D); W (D+H, 3H), gates [reset, update, candidate]."""
    T, N, D = x.shape
    H = W.shape[1] // 3
    h = np.zeros((N, H)) if h0 is None else h0.astype(np.float64)
    hs = []
    for t in range(T):
        a = x[t] @ W[:D] + b
        ru = sig(a[:, :2 * H] + h @ W[D:, :2 * H])
        r, u = ru[:, :H], ru[:, H:]
        hc = np.tanh(a[:, 2 * H:] + (r * h) @ W[D:, 2 * H:])
        h = (1 - u) * hc + u * h
        if mask is not None:
            h = h.copy()
            h[mask[t] != 0] = 0
        hs.append(h)
    return np.stack(hs)


# ---------------------------------------------------------------- RecLSTM / StepLSTM
@pytest.mark.parametrize("dtype", DTYPES)
def test_reclstm_steps_batch_single_and_sequencer(lua, dtype):
    rng = np.random.default_rng(0)
    T, N, D, H = 5, 3, 4, 6
    x = rng.standard_normal((T, N, D))
    lua.execute(f"torch.manualSeed(2); m = nn.RecLSTM({D}, {H}):type('{TNAME[dtype]}')")
    W, b = get(lua, "m.modules[1].weight"), get(lua, "m.modules[1].bias")
    assert W.shape == (D + H, 4 * H) and np.allclose(b[H:2 * H], 1)     # torch/rnn's forget bias
    ref, cref = lstm_ref(x, W, b)
    put(lua, "x", x, dtype)
    for mode in ("evaluate", "training"):
        lua.execute(f"m:{mode}(); m:forget(); out = {{}}; for t = 1, {T} do out[t] = m:forward(x[t]):clone() end")
        for t in range(T):
            np.testing.assert_allclose(get(lua, f"out[{t + 1}]"), ref[t], **tol(dtype))
        np.testing.assert_allclose(get(lua, "m.cell"), cref[-1], **tol(dtype))
    # one sample (a vector) at a time gives the batch's rows
    lua.execute(f"m:evaluate(); m:forget(); single = {{}}; for t = 1, {T} do single[t] = m:forward(x[t][2]):clone() end")
    for t in range(T):
        assert lua.eval(f"single[{t + 1}]:dim()") == 1
        np.testing.assert_allclose(get(lua, f"single[{t + 1}]"), ref[t][1], **tol(dtype))
    # decorated by a Sequencer: the whole sequence
    lua.execute("s = nn.Sequencer(m); s:evaluate(); y = s:forward(x)")
    assert lua.eval("torch.type(y)") == TNAME[dtype]
    np.testing.assert_allclose(get(lua, "y"), ref, **tol(dtype))
    # a start state
    h0, c0 = rng.standard_normal((N, H)), rng.standard_normal((N, H))
    put(lua, "h0", h0, dtype)
    put(lua, "c0", c0, dtype)
    lua.execute("m:setStartState({h0, c0}); y = s:forward(x)")
    np.testing.assert_allclose(get(lua, "y"), lstm_ref(x, W, b, h0=h0, c0=c0)[0], **tol(dtype))
    assert lua.eval("tostring(m)") == f"nn.RecLSTM({D} -> {H})"


@pytest.mark.parametrize("dtype", DTYPES)
def test_reclstm_projection_and_steplstm(lua, dtype):
    rng = np.random.default_rng(1)
    T, N, D, H, R = 4, 2, 3, 5, 2
    x = rng.standard_normal((T, N, D))
    lua.execute(f"torch.manualSeed(3); m = nn.RecLSTM({D}, {H}, {R}):type('{TNAME[dtype]}'); m:evaluate()")
    W, b, WO = (get(lua, f"m.modules[1].{k}") for k in ("weight", "bias", "weightO"))
    assert W.shape == (D + R, 4 * H) and WO.shape == (H, R)
    put(lua, "x", x, dtype)
    lua.execute("s = nn.Sequencer(m); s:evaluate(); y = s:forward(x)")
    np.testing.assert_allclose(get(lua, "y"), lstm_ref(x, W, b, WO=WO)[0], **tol(dtype))
    assert lua.eval("tostring(m)") == f"nn.RecLSTM({D} -> {H} -> {R})"
    # the step module alone: {x, h, c} -> {h, c}
    h, cc = rng.standard_normal((N, R)), rng.standard_normal((N, H))
    put(lua, "h", h, dtype)
    put(lua, "cc", cc, dtype)
    lua.execute("o = m.modules[1]:forward({x[1], h, cc})")
    rh, rc = lstm_ref(x[:1], W, b, WO=WO, h0=h, c0=cc)
    np.testing.assert_allclose(get(lua, "o[1]"), rh[0], **tol(dtype))
    np.testing.assert_allclose(get(lua, "o[2]"), rc[0], **tol(dtype))
    with pytest.raises(st.LuaError, match=r"<nn.StepLSTM> input must be the table \{x, h\(t-1\), c\(t-1\)\} \(3 tensors\)"):
        lua.execute("m.modules[1]:forward(x[1])")
    with pytest.raises(st.LuaError, match=r"<nn.StepLSTM> c\(t-1\) must be 2x5, got 2x4"):
        lua.execute(f"m.modules[1]:forward({{x[1], h, torch.zeros(2, 4):type('{TNAME[dtype]}')}})")
    with pytest.raises(st.LuaError, match=r"<nn.RecLSTM> input must be a batch \(N x 3\) or one sample \(3\) of one time step, got 2x7"):
        lua.execute("m:forward(torch.zeros(2, 7))")


@pytest.mark.parametrize("dtype", DTYPES)
def test_zero_masks_v2_and_v1(lua, dtype):
    rng = np.random.default_rng(2)
    T, N, D, H = 5, 3, 3, 4
    x = rng.standard_normal((T, N, D))
    mask = np.zeros((T, N), np.uint8)
    mask[1, 0] = mask[3, 2] = mask[0, 1] = 1
    lua.execute(f"torch.manualSeed(4); r = nn.RecLSTM({D}, {H}):type('{TNAME[dtype]}'); "
                "s = nn.Sequencer(r):maskZero(); s:evaluate()")
    W, b = get(lua, "r.modules[1].weight"), get(lua, "r.modules[1].bias")
    put(lua, "x", x, dtype)
    lua.globals()["mask"] = mask
    with pytest.raises(st.LuaError, match=r"<nn.StepLSTM> zero masking version 2 needs a zeroMask: call setZeroMask"):
        lua.execute("s:forward(x)")
    lua.execute("s:setZeroMask(mask); y = s:forward(x)")
    ref = lstm_ref(x, W, b, mask=mask)[0]
    np.testing.assert_allclose(get(lua, "y"), ref, **tol(dtype))
    assert not get(lua, "y")[1, 0].any() and get(lua, "y")[2, 0].any()     # the state starts afresh
    # the same mask through a SeqLSTM of the same weights, and a RecGRU/SeqGRU pair
    lua.execute(f"q = nn.SeqLSTM({D}, {H}):type('{TNAME[dtype]}'); q.weight:copy(r.modules[1].weight); "
                "q.bias:copy(r.modules[1].bias); q:maskZero(false); q:setZeroMask(mask); q:evaluate(); yq = q:forward(x)")
    np.testing.assert_allclose(get(lua, "yq"), ref, **tol(dtype))
    # version 1: the rows of x that are all zeros are masked
    x1 = x.copy()
    x1[2, 1] = 0
    put(lua, "x1", x1, dtype)
    lua.execute(f"torch.manualSeed(4); r1 = nn.RecLSTM({D}, {H}):type('{TNAME[dtype]}'); "
                "s1 = nn.Sequencer(r1):maskZero(true); s1:evaluate(); y1 = s1:forward(x1)")
    m1 = np.zeros((T, N), np.uint8)
    m1[2, 1] = 1
    np.testing.assert_allclose(get(lua, "y1"), lstm_ref(x1, W, b, mask=m1)[0], **tol(dtype))
    # setZeroMask(false) turns masking off
    lua.execute("s:setZeroMask(false); y = s:forward(x)")
    np.testing.assert_allclose(get(lua, "y"), lstm_ref(x, W, b)[0], **tol(dtype))
    with pytest.raises(st.LuaError, match=r"forward called for step 3, but the zeroMask given to setZeroMask has 2 steps"):
        lua.execute("s:setZeroMask(mask:narrow(1, 1, 2)); s:forward(x)")
    # a MaskZero (version 2) around any module: masked rows of its output are zero
    lua.execute(f"l = nn.Linear({D}, 2):type('{TNAME[dtype]}'); mz = nn.MaskZero(l); mz:setZeroMask(mask[2]); "
                "ymz = mz:forward(x[2])")
    lw, lb = get(lua, "l.weight"), get(lua, "l.bias")
    expect = x[1] @ lw.T + lb
    expect[mask[1] != 0] = 0
    np.testing.assert_allclose(get(lua, "ymz"), expect, **tol(dtype))
    gm = get(lua, "nn.utils.getZeroMaskSequence(x1)")
    np.testing.assert_array_equal(gm, m1)


# ---------------------------------------------------------------- RecGRU / StepGRU
@pytest.mark.parametrize("dtype", DTYPES)
def test_recgru_batch_single_sequencer_and_mask(lua, dtype):
    rng = np.random.default_rng(3)
    T, N, D, H = 6, 2, 3, 4
    x = rng.standard_normal((T, N, D))
    lua.execute(f"torch.manualSeed(5); m = nn.RecGRU({D}, {H}):type('{TNAME[dtype]}')")
    W, b = get(lua, "m.modules[1].weight"), get(lua, "m.modules[1].bias")
    ref = gru_ref(x, W, b)
    put(lua, "x", x, dtype)
    for mode in ("evaluate", "training"):
        lua.execute(f"m:{mode}(); m:forget(); out = {{}}; for t = 1, {T} do out[t] = m:forward(x[t]):clone() end")
        for t in range(T):
            np.testing.assert_allclose(get(lua, f"out[{t + 1}]"), ref[t], **tol(dtype))
    lua.execute(f"m:evaluate(); m:forget(); one = {{}}; for t = 1, {T} do one[t] = m:forward(x[t][1]):clone() end")
    for t in range(T):
        np.testing.assert_allclose(get(lua, f"one[{t + 1}]"), ref[t][0], **tol(dtype))
    h0 = rng.standard_normal((N, H))
    put(lua, "h0", h0, dtype)
    lua.execute("s = nn.Sequencer(m); s:evaluate(); m:setStartState(h0); y = s:forward(x)")
    np.testing.assert_allclose(get(lua, "y"), gru_ref(x, W, b, h0=h0), **tol(dtype))
    mask = np.zeros((T, N), np.uint8)
    mask[2, 1] = mask[4, 0] = 1
    lua.globals()["mask"] = mask
    lua.execute("m:setStartState(nil); s:maskZero(); s:setZeroMask(mask); y = s:forward(x)")
    np.testing.assert_allclose(get(lua, "y"), gru_ref(x, W, b, mask=mask), **tol(dtype))
    # StepGRU alone
    lua.execute("o = m.modules[1]:forward({x[1], h0})")
    np.testing.assert_allclose(get(lua, "o"), gru_ref(x[:1], W, b, h0=h0)[0], **tol(dtype))


# ---------------------------------------------------------------- LinearRNN / LookupRNN
@pytest.mark.parametrize("dtype", DTYPES)
def test_linearrnn_and_lookuprnn(lua, dtype):
    rng = np.random.default_rng(4)
    T, N, D, H, V = 5, 3, 4, 3, 7
    x = rng.standard_normal((T, N, D))
    lua.execute(f"torch.manualSeed(6); m = nn.LinearRNN({D}, {H}):type('{TNAME[dtype]}'); s = nn.Sequencer(m)")
    Wl, bl = get(lua, "m.modules[1].modules[2].weight"), get(lua, "m.modules[1].modules[2].bias")
    h = np.zeros((N, H))
    ref = []
    for t in range(T):
        h = sig(np.concatenate([x[t], h], 1) @ Wl.T + bl)
        ref.append(h)
    put(lua, "x", x, dtype)
    for mode in ("evaluate", "training"):
        lua.execute(f"s:{mode}(); y = s:forward(x)")
        np.testing.assert_allclose(get(lua, "y"), np.stack(ref), **tol(dtype))
    lua.execute(f"m:evaluate(); m:forget(); v = m:forward(x[1][2])")                      # one sample
    np.testing.assert_allclose(get(lua, "v"), ref[0][1], **tol(dtype))
    assert lua.eval("tostring(m)") == f"nn.LinearRNN({D} -> {H})"
    idx = rng.integers(0, V + 1, (T, N))          # 0: the zero embedding (LookupTableMaskZero)
    lua.globals()["idx"] = idx.astype(np.int64)
    lua.execute(f"torch.manualSeed(7); k = nn.LookupRNN({V}, {H}):type('{TNAME[dtype]}'); sk = nn.Sequencer(k); "
                "sk:evaluate(); z = sk:forward(idx)")
    E = get(lua, "k.modules[1].modules[1].modules[1].weight")
    Wr, br = get(lua, "k.modules[1].modules[1].modules[2].weight"), get(lua, "k.modules[1].modules[1].modules[2].bias")
    E[0] = 0
    h = np.zeros((N, H))
    ref = []
    for t in range(T):
        h = sig(E[idx[t]] + h @ Wr.T + br)
        ref.append(h)
    np.testing.assert_allclose(get(lua, "z"), np.stack(ref), **tol(dtype))


# ---------------------------------------------------------------- SeqBLSTM / SeqBGRU / ReverseSequence
@pytest.mark.parametrize("dtype", DTYPES)
def test_seqblstm_seqbgru_and_reverse(lua, dtype):
    rng = np.random.default_rng(5)
    T, N, D, H = 4, 2, 3, 5
    x = rng.standard_normal((T, N, D))
    put(lua, "x", x, dtype)
    lua.execute(f"torch.manualSeed(8); b = nn.SeqBLSTM({D}, {H}):type('{TNAME[dtype]}'); b:evaluate(); y = b:forward(x)")
    Wf, bf = get(lua, "b:getForward().weight"), get(lua, "b:getForward().bias")
    Wb, bb = get(lua, "b:getBackward().weight"), get(lua, "b:getBackward().bias")
    assert not np.allclose(Wf, Wb)                      # the backward half was reset
    ref = lstm_ref(x, Wf, bf)[0] + lstm_ref(x[::-1], Wb, bb)[0][::-1]
    np.testing.assert_allclose(get(lua, "y"), ref, **tol(dtype))
    lua.execute(f"torch.manualSeed(9); g = nn.SeqBGRU({D}, {H}, nn.JoinTable(3)):type('{TNAME[dtype]}'); g:evaluate(); "
                "z = g:forward(x)")
    Gf, gf = get(lua, "g:getForward().weight"), get(lua, "g:getForward().bias")
    Gb, gb = get(lua, "g:getBackward().weight"), get(lua, "g:getBackward().bias")
    ref = np.concatenate([gru_ref(x, Gf, gf), gru_ref(x[::-1], Gb, gb)[::-1]], 2)
    np.testing.assert_allclose(get(lua, "z"), ref, **tol(dtype))
    # a zeroMask reaches the backward half reversed
    mask = np.zeros((T, N), np.uint8)
    mask[1, 1] = 1
    lua.globals()["mask"] = mask
    lua.execute("b:maskZero(false); b:setZeroMask(mask); y = b:forward(x)")
    ref = lstm_ref(x, Wf, bf, mask=mask)[0] + lstm_ref(x[::-1], Wb, bb, mask=mask[::-1])[0][::-1]
    np.testing.assert_allclose(get(lua, "y"), ref, **tol(dtype))
    np.testing.assert_allclose(get(lua, "nn.ReverseSequence():forward(x)"), x[::-1], **tol(dtype))
    assert lua.execute("local r = nn.ReverseSequence():forward({1, 2, 3}); return r[1], r[3]") == (3, 1)


# ---------------------------------------------------------------- VariableLength
@pytest.mark.parametrize("dtype", DTYPES)
def test_variable_length(lua, dtype):
    rng = np.random.default_rng(6)
    D, H = 3, 4
    lengths = [2, 2, 5, 1, 3]
    seqs = [rng.standard_normal((n, D)) for n in lengths]
    for i, s in enumerate(seqs):
        put(lua, f"s{i}", s, dtype)
    inputs = "{" + ", ".join(f"s{i}" for i in range(len(seqs))) + "}"
    lua.execute(f"torch.manualSeed(10); q = nn.SeqLSTM({D}, {H}):type('{TNAME[dtype]}'); "
                f"v = nn.VariableLength(q); v:evaluate(); out = v:forward({inputs})")
    W, b = get(lua, "q.weight"), get(lua, "q.bias")
    for i, s in enumerate(seqs):
        np.testing.assert_allclose(get(lua, f"out[{i + 1}]"), lstm_ref(s[:, None], W, b)[0][:, 0], **tol(dtype))
    # torch/rnn's packing: longest first, samples sharing a column are one masked step apart
    assert [list(r.values()) for r in lua.eval("v.indexes").values()] == [[3], [5, 4], [2, 1]]
    assert lua.eval("v._mask:size(1)") == 5 and lua.eval("v._mask:size(2)") == 3
    np.testing.assert_array_equal(get(lua, "v._mask")[:, 1], [0, 0, 0, 1, 0])
    lua.execute(f"vl = nn.VariableLength(q, true); vl:evaluate(); last = vl:forward({inputs})")
    expect = np.stack([lstm_ref(s[:, None], W, b)[0][-1, 0] for s in seqs])
    np.testing.assert_allclose(get(lua, "last"), expect, **tol(dtype))
    with pytest.raises(st.LuaError, match=r"<nn.VariableLength> got tensors of different sizes: sample 1 is a .* of 2x3, "
                                          r"sample 2 a .* of 2x4"):
        lua.execute(f"v:forward({{s0, torch.zeros(2, 4):type('{TNAME[dtype]}')}})")
    with pytest.raises(st.LuaError, match=r"setZeroMask is not supported"):
        lua.execute("v:setZeroMask(torch.ByteTensor(2, 2))")


# ---------------------------------------------------------------- MuFuRu
@pytest.mark.parametrize("dtype", DTYPES)
def test_mufuru(lua, dtype):
    rng = np.random.default_rng(7)
    T, N, D, H = 4, 3, 2, 3
    x = rng.standard_normal((T, N, D))
    put(lua, "x", x, dtype)
    lua.execute(f"torch.manualSeed(11); m = nn.MuFuRu({D}, {H}):type('{TNAME[dtype]}'); s = nn.Sequencer(m); "
                "s:evaluate(); y = s:forward(x); params = m:parameters()")
    Wrx, brx, Wrh, brh, Wv, bv, Wp, bp = (get(lua, f"params[{i}]") for i in range(1, 9))
    ops = [lambda s_, v: s_, lambda s_, v: v, lambda s_, v: s_ * v, lambda s_, v: s_ - v,
           lambda s_, v: 0 * s_, lambda s_, v: 0.25 * np.sqrt(np.abs(s_ - v)), np.maximum, np.minimum]
    s_ = np.zeros((N, H))
    ref = []
    for t in range(T):
        r = sig(x[t] @ Wrx.T + brx + s_ @ Wrh.T + brh)
        v = sig(np.concatenate([x[t], r * s_], 1) @ Wv.T + bv)
        logits = (np.concatenate([x[t], s_], 1) @ Wp.T + bp).reshape(N, len(ops), H)
        p = np.exp(logits - logits.max(1, keepdims=True))
        p /= p.sum(1, keepdims=True)
        s_ = sum(p[:, k] * op(s_, v) for k, op in enumerate(ops))
        ref.append(s_)
    np.testing.assert_allclose(get(lua, "y"), np.stack(ref), **tol(dtype))
    assert lua.eval("tostring(m)") == f"nn.MuFuRu({D} -> {H}) {{ keep replace mul diff forget sqrt_diff max min }}"
    with pytest.raises(st.LuaError, match=r"<nn.MuFuRu> unknown operation 'plus'"):
        lua.execute("nn.MuFuRu(2, 3, {'keep', 'plus'})")


# ---------------------------------------------------------------- files as torch/rnn writes them
def tensor(arr, dtype=np.float64):
    name = TNAME[dtype]
    a = np.ascontiguousarray(arr, dtype=dtype)
    if a.size == 0:
        return c.Tensor(name, [], storage=None)
    return c.Tensor(name, list(a.shape), storage=c.Storage(name.replace("Tensor", "Storage"), a.ravel().tolist()))


def empty(dtype=np.float64):
    return c.Tensor(TNAME[dtype], [], storage=None)


def module_fields(dtype, **kw):
    fields = dict(output=empty(dtype), gradInput=empty(dtype), train=False, _type=TNAME[dtype])
    fields.update(kw)
    return fields


def recurrent_fields(step, dtype, **kw):
    """An AbstractRecurrent as torch/rnn's constructor leaves it: modules[1] is the step module
    (no recurrentModule field), seqlen (not rho)."""
    return module_fields(dtype, modules={1: step}, sharedClones={1: step}, seqlen=99999, step=1,
                         outputs={}, gradInputs={}, _gradOutputs={}, gradOutputs={}, **kw)


def steplstm(W, b, D, H, dtype, maskzero=False):
    return c.Obj("nn.StepLSTM", module_fields(
        dtype, weight=tensor(W, dtype), gradWeight=tensor(np.zeros_like(W), dtype), bias=tensor(b, dtype),
        gradBias=tensor(np.zeros_like(b), dtype), gates=empty(dtype), inputsize=D, hiddensize=H, outputsize=H,
        maskzero=maskzero, v2=True, output={1: empty(dtype), 2: empty(dtype)},
        gradInput={1: empty(dtype), 2: empty(dtype), 3: empty(dtype)}))


@pytest.mark.parametrize("dtype", DTYPES)
def test_torch_rnn_files_load_and_forward(lua, tmp_path, dtype):
    rng = np.random.default_rng(8)
    T, N, D, H, V = 5, 2, 3, 4, 6
    x = rng.standard_normal((T, N, D))
    put(lua, "x", x, dtype)
    # nn.Sequencer(nn.RecLSTM(3, 4)):maskZero(), evaluated
    W, b = rng.normal(0, 0.5, (D + H, 4 * H)), rng.normal(0, 0.5, 4 * H)
    rec = c.Obj("nn.RecLSTM", recurrent_fields(steplstm(W, b, D, H, dtype, maskzero=True), dtype, inputsize=D,
                hiddensize=H, outputsize=H, cells={}, gradCells={}, zeroOutput=empty(dtype), zeroCell=empty(dtype)))
    seq = c.Obj("nn.Sequencer", module_fields(dtype, modules={1: rec}, output={}, tableoutput={}, tablegradInput={},
                                              _output={}, _remember="neither"))
    path = tmp_path / "reclstm.t7"
    path.write_bytes(c.dumps(seq))
    mask = np.zeros((T, N), np.uint8)
    mask[2, 0] = 1
    lua.globals()["mask"] = mask
    lua.execute(f"m = torch.load('{path}')")
    assert lua.eval("torch.type(m.modules[1]) == 'nn.RecLSTM' and m.modules[1].rho == 99999")    # from seqlen
    lua.execute("m:setZeroMask(mask); y = m:forward(x)")
    np.testing.assert_allclose(get(lua, "y"), lstm_ref(x, W, b, mask=mask)[0], **tol(dtype))
    # nn.SeqGRU(3, 4):maskZero() of torch/rnn: sizes named inputsize/outputsize, v2
    G, g = rng.normal(0, 0.5, (D + H, 3 * H)), rng.normal(0, 0.5, 3 * H)
    sgru = c.Obj("nn.SeqGRU", module_fields(
        dtype, weight=tensor(G, dtype), bias=tensor(g, dtype), gradWeight=tensor(np.zeros_like(G), dtype),
        gradBias=tensor(np.zeros_like(g), dtype), gates=empty(dtype), buffer1=empty(dtype), buffer2=empty(dtype),
        buffer3=empty(dtype), grad_a_buffer=empty(dtype), h0=empty(dtype), _remember="neither", inputsize=D,
        outputsize=H, maskzero=True, v2=True))
    path = tmp_path / "seqgru.t7"
    path.write_bytes(c.dumps(sgru))
    lua.execute(f"g = torch.load('{path}'); g:evaluate()")
    with pytest.raises(st.LuaError, match=r"<nn.SeqGRU> zero masking \(maskzero, version 2\) needs setZeroMask"):
        lua.execute("g:forward(x)")
    lua.execute("g:setZeroMask(mask); z = g:forward(x)")
    np.testing.assert_allclose(get(lua, "z"), gru_ref(x, G, g, mask=mask), **tol(dtype))
    # nn.LookupRNN(6, 4): a Recurrence of torch/rnn around Sequential{ParallelTable{LookupTableMaskZero, Linear}, ...}
    E, Wr, br = rng.normal(0, 0.5, (V + 1, H)), rng.normal(0, 0.5, (H, H)), rng.normal(0, 0.5, H)
    lookup = c.Obj("nn.LookupTableMaskZero", module_fields(dtype, weight=tensor(E, dtype),
                                                           gradWeight=tensor(np.zeros_like(E), dtype)))
    lin = c.Obj("nn.Linear", module_fields(dtype, weight=tensor(Wr, dtype), bias=tensor(br, dtype)))
    par = c.Obj("nn.ParallelTable", module_fields(dtype, modules={1: lookup, 2: lin}, output={}, gradInput={}))
    stepm = c.Obj("nn.Sequential", module_fields(dtype, modules={1: par, 2: c.Obj("nn.CAddTable", module_fields(dtype)),
                                                                 3: c.Obj("nn.Sigmoid", module_fields(dtype))}))
    lrnn = c.Obj("nn.LookupRNN", recurrent_fields(stepm, dtype, outputSize={1: H}, nInputDim=0,
                                                  typeTensor=empty(dtype), nindex=V, outputsize=H))
    path = tmp_path / "lookuprnn.t7"
    path.write_bytes(c.dumps(lrnn))
    idx = rng.integers(0, V + 1, (T, N))
    lua.globals()["idx"] = idx.astype(np.int64)
    lua.execute(f"k = nn.Sequencer(torch.load('{path}')); k:evaluate(); w = k:forward(idx)")
    E[0] = 0
    h = np.zeros((N, H))
    ref = []
    for t in range(T):
        h = sig(E[idx[t]] + h @ Wr.T + br)
        ref.append(h)
    np.testing.assert_allclose(get(lua, "w"), np.stack(ref), **tol(dtype))


def test_torch_rnn_files_with_bad_fields_say_what_is_wrong(lua, tmp_path):
    rng = np.random.default_rng(9)
    D, H = 3, 4
    W, b = rng.normal(0, 0.5, (D + H, 4 * H)), rng.normal(0, 0.5, 4 * H)
    bad_w = steplstm(W[:, :-1], b, D, H, np.float64)
    path = tmp_path / "bad.t7"
    path.write_bytes(c.dumps(bad_w))
    with pytest.raises(st.T7FormatError, match=r"nn.StepLSTM.weight: expected a tensor of size 7x16 "
                                               r"\(\(inputsize \+ outputsize\) x 4 \* hiddensize\)"):
        lua.execute(f"torch.load('{path}')")
    gru = c.Obj("nn.StepGRU", module_fields(np.float64, weight=tensor(W[:, :3 * H], np.float64),
                                            bias=tensor(b[:3 * H], np.float64), inputsize=D, outputsize=H))
    rec = c.Obj("nn.RecLSTM", recurrent_fields(gru, np.float64, inputsize=D, outputsize=H))
    path.write_bytes(c.dumps(rec))
    with pytest.raises(st.T7FormatError, match=r"nn.RecLSTM.modules: expected an nn.StepLSTM \(the step module\), "
                                               r"the file holds an nn.StepGRU"):
        lua.execute(f"torch.load('{path}')")


def test_classes_exist_and_are_in_the_manifest(lua):
    for cls in ("RecLSTM", "RecGRU", "StepLSTM", "StepGRU", "LinearRNN", "LookupRNN", "SeqBLSTM", "SeqBGRU",
                "VariableLength", "MuFuRu", "ReverseSequence", "ReverseUnreverse"):
        assert lua.eval(f"torch.getmetatable('nn.{cls}') ~= nil"), cls
    assert lua.eval("torch.isTypeOf(nn.RecLSTM(2, 3), 'nn.AbstractRecurrent') and "
                    "torch.isTypeOf(nn.SeqBLSTM(2, 3), 'nn.BiSequencer')")


# ---------------------------------------------------------------- NCEModule, torchx's AliasMultinomial
@pytest.mark.parametrize("dtype", DTYPES)
def test_ncemodule_normalized_evaluation(lua, dtype):
    rng = np.random.default_rng(10)
    N, D, V = 4, 5, 9
    x = rng.standard_normal((N, D))
    put(lua, "x", x, dtype)
    lua.execute(f"torch.manualSeed(12); m = nn.NCEModule({D}, {V}, 3, torch.range(1, {V})):type('{TNAME[dtype]}')")
    W, b = get(lua, "m.weight"), get(lua, "m.bias")
    np.testing.assert_allclose(b, -np.log(V))           # torch/rnn's initial bias (Z = 1)
    lin = x @ W.T + b
    # training (and evaluation without normalized) scores sampled classes (tests/test_pkg_rnn_nce.py)
    assert lua.eval("#m:forward({x, torch.LongTensor(4):fill(1)})") == 4
    lua.execute("m:evaluate(); m.normalized = true; p = m:forward({x, torch.LongTensor(4):fill(1)})")
    ref = np.exp(lin - lin.max(1, keepdims=True))
    ref /= ref.sum(1, keepdims=True)
    np.testing.assert_allclose(get(lua, "p"), ref, **tol(dtype))
    lua.execute("m.logsoftmax = true; lp = m:forward(x)")
    np.testing.assert_allclose(get(lua, "lp"), np.log(ref), **tol(dtype))
    # the unigrams became a distribution, held by an alias sampler that reproduces it
    u = np.arange(1, V + 1) / np.arange(1, V + 1).sum()
    np.testing.assert_allclose(get(lua, "m.unigrams"), u, rtol=1e-6)
    q, J = get(lua, "m.aliasmultinomial.q"), get(lua, "m.aliasmultinomial.J").astype(int)
    assert q.min() >= 0 and q.max() <= 1 and J.min() >= 0 and J.max() <= V and (q[J == 0] == 1).all()
    implied = q.copy()
    for k in range(V):
        if J[k]:
            implied[J[k] - 1] += 1 - q[k]
    np.testing.assert_allclose(implied / V, u, atol=1e-6)
    draws = get(lua, "m.aliasmultinomial:batchdraw(torch.LongTensor(20000))").astype(int)
    freq = np.bincount(draws, minlength=V + 1)[1:] / draws.size
    np.testing.assert_allclose(freq, u, atol=0.015)
    # through a file: the sampler (a torchx class) is required by torch.load
    lua.execute("f = torch.MemoryFile(); f:binary(); f:writeObject(m); f:seek(1); m2 = f:readObject()")
    assert lua.eval("torch.type(m2.aliasmultinomial)") == "torch.AliasMultinomial"
    np.testing.assert_allclose(get(lua, "m2:forward(x)"), np.log(ref), **tol(dtype))


@pytest.mark.parametrize("ctor, inp", [
    ("nn.SeqBLSTM(3, 4)", "torch.randn(5, 2, 3)"),
    ("nn.SeqBGRU(3, 4)", "torch.randn(5, 2, 3)"),
    ("nn.Sequencer(nn.RecLSTM(3, 4, 2))", "torch.randn(5, 2, 3)"),
    ("nn.Sequencer(nn.RecGRU(3, 4))", "torch.randn(5, 2, 3)"),
    ("nn.Sequencer(nn.LinearRNN(3, 4))", "torch.randn(5, 2, 3)"),
    ("nn.Sequencer(nn.MuFuRu(3, 4))", "torch.randn(5, 2, 3)"),
    ("nn.VariableLength(nn.SeqGRU(3, 4), true)", "{torch.randn(4, 3), torch.randn(2, 3)}"),
])
def test_save_load_round_trip_forwards_the_same(lua, ctor, inp):
    lua.execute(f"torch.manualSeed(13); m = {ctor}; m:evaluate(); x = {inp}; y = m:forward(x); "
                "y = torch.isTensor(y) and y:clone() or y[1]:clone(); "
                "local f = torch.MemoryFile(); f:binary(); f:writeObject(m); f:seek(1); m2 = f:readObject(); "
                "y2 = m2:forward(x); y2 = torch.isTensor(y2) and y2 or y2[1]")
    assert lua.eval("torch.type(m2) == torch.type(m)")
    np.testing.assert_array_equal(get(lua, "y2"), get(lua, "y"))
