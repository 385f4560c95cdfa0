"""Noise-contrastive estimation (dpnn / torch/rnn): nn.NCEModule's training forward (noise drawn
by its torch.AliasMultinomial, k for the batch or k per row), its gradients (against finite
differences, the noise held fixed by replacing noiseSample as torch/rnn's own tests do) and
nn.NCECriterion (against the formula written here in NumPy); training a tiny language model,
evaluation against a NumPy softmax, files in training state (written here and as dpnn /
torch/rnn lay them out, by tests/t7craft.py) and the errors of bad input."""
import numpy as np
import pytest

import sparktorch7 as st
from rnn_helpers import DTYPES, TNAME, tol, rnn_lua  # noqa: F401 (a fixture)
import t7craft as c

EPS = 1e-7


@pytest.fixture
def lua(rnn_lua):
    return rnn_lua


def get(lua, expr):
    return np.array(lua.eval(expr), dtype=np.float64)


def put(lua, name, arr, dtype=np.float64):
    lua.globals()[name] = np.ascontiguousarray(arr, dtype=dtype)


def put_long(lua, name, arr):
    lua.globals()[name] = np.ascontiguousarray(arr, dtype=np.int64)


def make(lua, D, V, k, dtype=np.float64, batchnoise=True, Z=None, seed=1):
    counts = np.arange(1, V + 1, dtype=np.float64) ** 2
    put(lua, "counts", counts)
    z = "" if Z is None else f", {Z}"
    lua.execute(f"torch.manualSeed({seed}); m = nn.NCEModule({D}, {V}, {k}, counts:clone(){z}):type('{TNAME[dtype]}');"
                f" m.batchnoise = {'true' if batchnoise else 'false'}")
    return counts / counts.sum()


def hold_noise(lua, noise):
    """Replaces m:noiseSample by one filling the buffer with `noise` (rows x k)."""
    put_long(lua, "fixed_noise", noise)
    lua.execute("m.noiseSample = function(self, idx, n, k) return idx:resize(n, k):copy(fixed_noise:view(n, k)) end")


def scores_ref(x, W, b, idx, Z, batchnoise, k):
    """exp(x W[c]' + b[c]) / Z for the classes of sampleidx: (targets N, noise N x k)."""
    N = x.shape[0]
    if batchnoise:
        noise, targets = idx[:k] - 1, idx[k:] - 1
        Pmt = np.exp((x * W[targets]).sum(1) + b[targets]) / Z
        Pms = np.exp(x @ W[noise].T + b[noise]) / Z
    else:
        rows = idx.reshape(N, k + 1) - 1
        s = np.exp(np.einsum("nd,ncd->nc", x, W[rows]) + b[rows]) / Z
        Pmt, Pms = s[:, 0], s[:, 1:]
    return Pmt, Pms


def nce_ref(Pmt, Pms, Pnt, Pns, size_average=True):
    """The NCE loss and its gradient with respect to Pmt and Pms, with the criterion's eps."""
    k = Pms.shape[1]
    loss = -(np.log(Pmt / (Pmt + k * Pnt + EPS)).sum() + np.log(k * Pns / (Pms + k * Pns + EPS)).sum())
    dPmt = -k * Pnt / ((Pmt + k * Pnt + EPS) * (Pmt + EPS))
    dPms = Pms / ((Pms + k * Pns + EPS) * (Pms + EPS))
    n = Pmt.shape[0] if size_average else 1
    return loss / n, dPmt / n, dPms / n


# ---------------------------------------------------------------- training forward
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("batchnoise", [True, False])
def test_training_forward(lua, dtype, batchnoise):
    rng = np.random.default_rng(1)
    N, D, V, k = 5, 4, 12, 6
    u = make(lua, D, V, k, dtype, batchnoise, Z=2.5)
    x, t = rng.standard_normal((N, D)), rng.integers(1, V + 1, N)
    put(lua, "x", x, dtype)
    put_long(lua, "t", t)
    lua.execute("torch.manualSeed(7); out = m:forward({x, t}); idx1 = m.sampleidx:clone()")
    assert lua.eval("#out") == 4 and lua.eval("m.sampleidx:type()") == "torch.LongTensor"
    shapes = [tuple(get(lua, f"out[{i}]").shape) for i in range(1, 5)]
    assert shapes == [(N,), (N, k), (N,), (N, k)]
    idx = get(lua, "m.sampleidx").astype(np.int64)
    assert idx.shape == ((k + N,) if batchnoise else (N, k + 1))
    assert idx.min() >= 1 and idx.max() <= V
    # the targets sit where the original puts them
    np.testing.assert_array_equal(idx[k:] if batchnoise else idx[:, 0], t)
    W, b = get(lua, "m.weight"), get(lua, "m.bias")
    Pmt, Pms = scores_ref(x, W, b, idx.ravel(), 2.5, batchnoise, k)
    np.testing.assert_allclose(get(lua, "out[1]"), Pmt, **tol(dtype))
    np.testing.assert_allclose(get(lua, "out[2]"), Pms, **tol(dtype))
    # noise probabilities: the normalised unigrams of the same classes
    probs = u[idx - 1]
    Pnt, Pns = (probs[k:], np.tile(probs[:k], (N, 1))) if batchnoise else (probs[:, 0], probs[:, 1:])
    np.testing.assert_allclose(get(lua, "out[3]"), Pnt, **tol(dtype))
    np.testing.assert_allclose(get(lua, "out[4]"), Pns, **tol(dtype))
    # the noise is the sampler's draw: the same seed gives the same classes, another seed others
    lua.execute("torch.manualSeed(7); m:forward({x, t}); same = m.sampleidx:clone(); "
                "torch.manualSeed(7); direct = m.aliasmultinomial:batchdraw(torch.LongTensor(%d, %d))"
                % ((1, k) if batchnoise else (N, k)))
    np.testing.assert_array_equal(get(lua, "same"), get(lua, "idx1"))
    direct = get(lua, "direct").astype(np.int64)
    np.testing.assert_array_equal(idx[:k] if batchnoise else idx[:, 1:], direct.ravel() if batchnoise else direct)
    lua.execute("torch.manualSeed(8); m:forward({x, t}); other = m.sampleidx:clone()")
    assert not np.array_equal(get(lua, "other"), get(lua, "idx1"))
    # evaluation without normalized still draws noise (as the original)
    lua.execute("m:evaluate(); torch.manualSeed(7); e = m:forward({x, t})")
    assert lua.eval("#e") == 4
    np.testing.assert_array_equal(get(lua, "m.sampleidx"), get(lua, "idx1"))


def test_noise_follows_the_unigrams(lua):
    V = 10
    u = make(lua, 3, V, 25)
    lua.execute("torch.manualSeed(3); s = m:noiseSample(torch.LongTensor(), 400, 25)")
    s = get(lua, "s").astype(np.int64)
    assert s.shape == (400, 25)
    freq = np.bincount(s.ravel(), minlength=V + 1)[1:] / s.size
    np.testing.assert_allclose(freq, u, atol=0.01)
    # a tensor of another type is filled through a LongTensor
    lua.execute("torch.manualSeed(3); d = m:noiseSample(torch.DoubleTensor(), 400, 25)")
    np.testing.assert_array_equal(get(lua, "d"), s)
    np.testing.assert_allclose(get(lua, "m:noiseProb(torch.Tensor(), torch.LongTensor{{1, 10}, {3, 3}})"),
                               u[[[0, 9], [2, 2]]], rtol=1e-12)
    # fastNoise rebuilds the sampler from new unigrams (counts become a distribution)
    lua.execute("m.unigrams = torch.Tensor(10):zero(); m.unigrams[4] = 3; m:fastNoise(); "
                "torch.manualSeed(1); only4 = m:noiseSample(torch.LongTensor(), 3, 50)")
    assert (get(lua, "only4") == 4).all()
    np.testing.assert_allclose(get(lua, "m.unigrams")[3], 1.0)


@pytest.mark.parametrize("batchnoise", [True, False])
def test_z_estimated_from_the_first_batch(lua, batchnoise):
    rng = np.random.default_rng(2)
    N, D, V, k = 4, 3, 9, 5
    make(lua, D, V, k, batchnoise=batchnoise)   # Z = -1: estimate it
    lua.execute("m.weight:normal(0, 1); m.bias:normal(0, 1)")
    x, t = rng.standard_normal((N, D)), rng.integers(1, V + 1, N)
    put(lua, "x", x)
    put_long(lua, "t", t)
    lua.execute("out = m:forward({x, t})")
    idx = get(lua, "m.sampleidx").astype(np.int64).ravel()
    W, b = get(lua, "m.weight"), get(lua, "m.bias")
    Pmt, Pms = scores_ref(x, W, b, idx, 1.0, batchnoise, k)
    # the mean exp-score times the vocabulary size: of the noise columns (batchnoise), else of all
    Z = (Pms.mean() if batchnoise else np.concatenate([Pmt[:, None], Pms], 1).mean()) * V
    np.testing.assert_allclose(lua.eval("m.Z[1]"), Z, rtol=1e-12)
    np.testing.assert_allclose(get(lua, "out[2]"), Pms / Z, rtol=1e-12)
    # the estimate is kept
    lua.execute("m:forward({x, t})")
    np.testing.assert_allclose(lua.eval("m.Z[1]"), Z, rtol=1e-12)


# ---------------------------------------------------------------- criterion
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("size_average", [True, False])
def test_criterion_loss_and_gradient(lua, dtype, size_average):
    rng = np.random.default_rng(3)
    N, k = 6, 4
    Pmt, Pms = rng.uniform(0.01, 2, N), rng.uniform(0.01, 2, (N, k))
    Pnt, Pns = rng.uniform(0.01, 0.3, N), rng.uniform(0.01, 0.3, (N, k))
    for name, a in dict(Pmt=Pmt, Pms=Pms, Pnt=Pnt, Pns=Pns).items():
        put(lua, name, a, dtype)
    lua.execute(f"crit = nn.NCECriterion(); crit.sizeAverage = {'true' if size_average else 'false'}; "
                "inp = {Pmt, Pms, Pnt, Pns}; loss = crit:forward(inp, torch.LongTensor(6):fill(1)); "
                "g = crit:backward(inp, nil)")
    loss, dPmt, dPms = nce_ref(Pmt, Pms, Pnt, Pns, size_average)
    np.testing.assert_allclose(lua.eval("loss"), loss, **tol(dtype))
    assert lua.eval("#g") == 4
    np.testing.assert_allclose(get(lua, "g[1]"), dPmt, **tol(dtype))
    np.testing.assert_allclose(get(lua, "g[2]"), dPms, **tol(dtype))
    np.testing.assert_array_equal(get(lua, "g[3]"), np.zeros(N))
    np.testing.assert_array_equal(get(lua, "g[4]"), np.zeros((N, k)))
    # the inputs are left as they came
    np.testing.assert_array_equal(get(lua, "Pmt"), Pmt.astype(dtype))
    np.testing.assert_array_equal(get(lua, "Pms"), Pms.astype(dtype))
    if dtype == np.float64:
        # the gradient is the loss's derivative (up to the eps the original puts in it)
        h = 1e-6
        for arr, gi in ((Pmt, dPmt), (Pms, dPms)):
            num = np.zeros_like(arr)
            for i in np.ndindex(arr.shape):
                save = arr[i]
                arr[i] = save + h
                lp = nce_ref(Pmt, Pms, Pnt, Pns, size_average)[0]
                arr[i] = save - h
                lm = nce_ref(Pmt, Pms, Pnt, Pns, size_average)[0]
                arr[i] = save
                num[i] = (lp - lm) / (2 * h)
            np.testing.assert_allclose(gi, num, rtol=1e-4, atol=1e-5)


def test_criterion_on_the_module_output(lua):
    rng = np.random.default_rng(4)
    N, D, V, k = 5, 3, 11, 7
    make(lua, D, V, k, Z=1)
    put(lua, "x", rng.standard_normal((N, D)))
    put_long(lua, "t", rng.integers(1, V + 1, N))
    lua.execute("crit = nn.NCECriterion(); out = m:forward({x, t}); loss = crit:forward(out, t); "
                "g = crit:backward(out, t)")
    P = [get(lua, f"out[{i}]") for i in range(1, 5)]
    loss, dPmt, dPms = nce_ref(*P)
    np.testing.assert_allclose(lua.eval("loss"), loss, rtol=1e-12)
    np.testing.assert_allclose(get(lua, "g[1]"), dPmt, rtol=1e-12)
    np.testing.assert_allclose(get(lua, "g[2]"), dPms, rtol=1e-12)
    # float criterion after :float(), buffers dropped; clearState empties them
    lua.execute("crit:float(); fl = crit:forward({out[1]:float(), out[2]:float(), out[3]:float(), out[4]:float()}, t)")
    np.testing.assert_allclose(lua.eval("fl"), loss, rtol=1e-5)
    lua.execute("crit:clearState()")
    assert lua.eval("crit._Pom == nil and crit.gradInput[1]:nElement() == 0")


# ---------------------------------------------------------------- module gradients
@pytest.mark.parametrize("batchnoise", [True, False])
def test_module_gradients_against_finite_differences(lua, batchnoise):
    rng = np.random.default_rng(5)
    N, D, V, k = 3, 4, 7, 3
    make(lua, D, V, k, batchnoise=batchnoise, Z=0.7)
    lua.execute("m.weight:normal(0, 0.5); m.bias:normal(0, 0.5)")
    x, t = rng.standard_normal((N, D)), np.array([2, 5, 2])
    # noise with a repeated class and classes shared with the targets: gradients add up
    noise = np.array([5, 1, 1]) if batchnoise else np.array([[2, 1, 1], [3, 5, 6], [7, 7, 2]])
    hold_noise(lua, noise)
    A1, A2 = rng.standard_normal(N), rng.standard_normal((N, k))
    put(lua, "x", x)
    put_long(lua, "t", t)
    put(lua, "A1", A1)
    put(lua, "A2", A2)
    objective = lua.eval("function() local o = m:forward({x, t}); "
                         "return torch.cmul(o[1], A1):sum() + torch.cmul(o[2], A2):sum() end")
    lua.execute("T = {x = x, W = m.weight, b = m.bias}")
    setel = lua.eval("function(key, i, v) T[key]:view(-1)[i] = v end")
    params = {"x": "x", "W": "m.weight", "b": "m.bias"}
    lua.execute("m:zeroGradParameters(); out = m:forward({x, t}); "
                "gi = m:backward({x, t}, {A1, A2, torch.zeros(3), torch.zeros(3, 3)})")
    analytic = {"x": get(lua, "gi[1]"), "W": get(lua, "m.gradWeight"), "b": get(lua, "m.gradBias")}
    h = 1e-6
    for key, name in params.items():
        base = get(lua, name)
        num = np.zeros(base.size)
        for i in range(base.size):
            v = base.ravel()[i]
            setel(key, i + 1, v + h)
            fp = objective()
            setel(key, i + 1, v - h)
            fm = objective()
            setel(key, i + 1, v)
            num[i] = (fp - fm) / (2 * h)
        np.testing.assert_allclose(analytic[key].ravel(), num, rtol=1e-6, atol=1e-8, err_msg=key)
    # only the rows of the classes scored get a gradient (4 is never drawn nor a target)
    scored = set(noise.ravel()) | set(t)
    for c_ in range(1, V + 1):
        if c_ not in scored:
            assert not analytic["W"][c_ - 1].any() and analytic["b"][c_ - 1] == 0
    assert 4 not in scored
    np.testing.assert_array_equal(get(lua, "gi[2]"), np.zeros(N))
    # accGradParameters accumulates, scaled
    lua.execute("m:forward({x, t}); m:accGradParameters({x, t}, {A1, A2}, 0.5)")
    np.testing.assert_allclose(get(lua, "m.gradWeight"), 1.5 * analytic["W"], rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(get(lua, "m.gradBias"), 1.5 * analytic["b"], rtol=1e-12, atol=1e-15)
    # parameters / getParameters as nn.Linear's: weight and bias
    assert lua.eval("#m:parameters()") == 2
    lua.execute("p, gp = m:getParameters()")
    np.testing.assert_allclose(get(lua, "gp"), 1.5 * np.concatenate([analytic["W"].ravel(), analytic["b"]]),
                               rtol=1e-12, atol=1e-15)
    lua.execute("m:zeroGradParameters()")
    assert lua.eval("m.gradWeight:abs():sum() == 0 and m.gradBias:abs():sum() == 0")


@pytest.mark.parametrize("dtype", DTYPES)
def test_batchnoise_equals_the_same_noise_per_row(lua, dtype):
    """torch/rnn's check: k noise classes shared by the batch give what the per-row layout gives
    with those classes in every row."""
    rng = np.random.default_rng(6)
    N, D, V, k = 4, 3, 20, 5
    make(lua, D, V, k, dtype, Z=1)
    put(lua, "x", rng.standard_normal((N, D)), dtype)
    put_long(lua, "t", rng.integers(1, V + 1, N))
    lua.execute("m2 = m:clone(); m2.batchnoise = false; crit = nn.NCECriterion(); "
                "o = m:forward({x, t}); g = crit:backward(o, t); m:zeroGradParameters(); gi = m:backward({x, t}, g); "
                "shared = m.sampleidx:narrow(1, 1, m.k):clone(); "
                "m2.noiseSample = function(self, idx, n, k) "
                "   return idx:resize(n, k):copy(shared:view(1, k):expand(n, k)) end; "
                "o2 = m2:forward({x, t}); g2 = crit:backward(o2, t); m2:zeroGradParameters(); "
                "gi2 = m2:backward({x, t}, g2)")
    for a, b_ in (("o[1]", "o2[1]"), ("o[2]", "o2[2]"), ("o[4]", "o2[4]"), ("gi[1]", "gi2[1]"),
                  ("m.gradWeight", "m2.gradWeight"), ("m.gradBias", "m2.gradBias")):
        np.testing.assert_allclose(get(lua, a), get(lua, b_), **tol(dtype), err_msg=a)


def test_inside_maskzero(lua):
    """torch/rnn's language models wrap it in nn.MaskZero: a masked row outputs zeros and passes
    no gradient, to the input or to the weights."""
    rng = np.random.default_rng(11)
    N, D, V, k = 4, 3, 9, 4
    make(lua, D, V, k, Z=1)
    put(lua, "x", rng.standard_normal((N, D)))
    put_long(lua, "t", rng.integers(1, V + 1, N))
    put(lua, "A1", rng.standard_normal(N))
    put(lua, "A2", rng.standard_normal((N, k)))
    lua.execute("mz = nn.MaskZero(m); mz:setZeroMask(torch.ByteTensor{0, 1, 0, 0}); torch.manualSeed(3); "
                "o = mz:forward({x, t}); m:zeroGradParameters(); gi = mz:backward({x, t}, {A1, A2})[1]:clone(); "
                "gw = m.gradWeight:clone(); "
                "A1[2] = 0; A2[2]:zero(); plain = m:clone(); plain:zeroGradParameters(); torch.manualSeed(3); "
                "po = plain:forward({x, t}); pgi = plain:backward({x, t}, {A1, A2})[1]")
    for i in range(1, 5):
        assert not get(lua, f"o[{i}]")[1].any()
    np.testing.assert_allclose(get(lua, "o[1]")[[0, 2, 3]], get(lua, "po[1]")[[0, 2, 3]], rtol=1e-12)
    gi = get(lua, "gi")
    assert not gi[1].any()
    np.testing.assert_allclose(gi, get(lua, "pgi"), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(get(lua, "gw"), get(lua, "plain.gradWeight"), rtol=1e-12, atol=1e-15)


# ---------------------------------------------------------------- training and evaluation
def test_sgd_on_a_tiny_language_model(lua):
    """Next word = f(current word) over 8 words: a LookupTable feeding the NCEModule, trained by
    SGD on the NCE loss; the loss falls, and the normalized evaluation is the softmax of the
    trained weights and puts most mass on the right word."""
    rng = np.random.default_rng(7)
    V, D, k, B = 8, 6, 5, 16
    nxt = np.array([3, 5, 7, 1, 8, 2, 4, 6])
    put(lua, "counts", np.bincount(nxt, minlength=V + 1)[1:] + 1.0)
    lua.execute(f"""torch.manualSeed(11)
        nce = nn.NCEModule({D}, {V}, {k}, counts:clone(), 1)
        lm = nn.Sequential():add(nn.ParallelTable():add(nn.LookupTable({V}, {D})):add(nn.Identity())):add(nce)
        crit = nn.NCECriterion()
        function step(ctx, tgt, lr)
           local out = lm:forward({{ctx, tgt}})
           local loss = crit:forward(out, tgt)
           lm:zeroGradParameters()
           lm:backward({{ctx, tgt}}, crit:backward(out, tgt))
           lm:updateParameters(lr)
           return loss
        end""")
    step = lua.eval("step")
    losses = []
    for _ in range(300):
        ctx = rng.integers(1, V + 1, B)
        losses.append(step(ctx.astype(np.int64), nxt[ctx - 1].astype(np.int64), 0.5))
    # (the loss keeps a floor: with 8 words the noise often holds the right one)
    assert np.mean(losses[-20:]) < 0.65 * np.mean(losses[:20])
    ctx = np.arange(1, V + 1)
    put_long(lua, "ctx", ctx)
    lua.execute("lm:evaluate(); nce.normalized = true; p = lm:forward({ctx, ctx}):clone(); "
                "nce.logsoftmax = true; lp = lm:forward({ctx, ctx})")
    E, W, b = get(lua, "lm.modules[1].modules[1].weight"), get(lua, "nce.weight"), get(lua, "nce.bias")
    logits = E[ctx - 1] @ W.T + b
    ref = np.exp(logits - logits.max(1, keepdims=True))
    ref /= ref.sum(1, keepdims=True)
    np.testing.assert_allclose(get(lua, "p"), ref, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(get(lua, "lp"), np.log(ref), rtol=1e-10, atol=1e-12)
    assert ref[np.arange(V), nxt - 1].min() > 0.8     # 1/8 untrained


# ---------------------------------------------------------------- files
@pytest.mark.parametrize("batchnoise", [True, False])
def test_save_load_in_training_state(lua, tmp_path, batchnoise):
    rng = np.random.default_rng(8)
    N, D, V, k = 4, 3, 10, 4
    make(lua, D, V, k, batchnoise=batchnoise, Z=1.3)
    put(lua, "x", rng.standard_normal((N, D)))
    put_long(lua, "t", rng.integers(1, V + 1, N))
    path = tmp_path / "nce.t7"
    lua.execute("crit = nn.NCECriterion(); o = m:forward({x, t}); m:zeroGradParameters(); "
                f"m:backward({{x, t}}, crit:backward(o, t)); torch.save('{path}', m); m2 = torch.load('{path}')")
    for f in ("weight", "bias", "gradWeight", "gradBias", "sampleidx", "unigrams", "Z", "aliasmultinomial.J",
              "aliasmultinomial.q", "output[1]", "output[2]", "output[4]"):
        np.testing.assert_array_equal(get(lua, f"m2.{f}"), get(lua, f"m.{f}"), err_msg=f)
    assert lua.eval("m2.batchnoise") is batchnoise and lua.eval("m2.k") == k
    # training goes on from the file as from the module
    lua.execute("torch.manualSeed(5); o = m:forward({x, t}); gi = m:backward({x, t}, crit:backward(o, t))[1]:clone()"
                " ; torch.manualSeed(5); o2 = m2:forward({x, t}); gi2 = m2:backward({x, t}, crit:backward(o2, t))")
    for mine, loaded in (("o[1]", "o2[1]"), ("o[2]", "o2[2]"), ("o[3]", "o2[3]"), ("gi", "gi2[1]")):
        np.testing.assert_array_equal(get(lua, loaded), get(lua, mine), err_msg=mine)
    np.testing.assert_array_equal(get(lua, "m2.gradWeight"), get(lua, "m.gradWeight"))
    # clearState drops the buffers and keeps the module working
    lua.execute("m2:clearState()")
    assert lua.eval("m2.sampleidx == nil and m2._weight == nil and m2.output[1]:nElement() == 0")
    lua.execute("torch.manualSeed(5); o3 = m2:forward({x, t})")
    np.testing.assert_array_equal(get(lua, "o3[2]"), get(lua, "o[2]"))


def _t(arr, name="torch.DoubleTensor"):
    a = np.ascontiguousarray(arr)
    if a.size == 0:
        return c.Tensor(name, [], storage=None)
    return c.Tensor(name, list(a.shape), storage=c.Storage(name.replace("Tensor", "Storage"), a.ravel().tolist()))


@pytest.mark.parametrize("layout", ["dpnn", "torch/rnn rownoise"])
def test_files_as_the_originals_write_them(lua, tmp_path, layout):
    """An NCEModule saved by dpnn (batchnoise, after a training step: its buffers, output table,
    the sampler with its dpnn_parameters) or by torch/rnn (rownoise, testedtargets) loads,
    trains on and evaluates."""
    rng = np.random.default_rng(9)
    N, D, V, k = 3, 4, 9, 3
    W, b = rng.normal(0, 0.5, (V, D)), rng.normal(0, 0.5, V)
    u = rng.uniform(0.5, 2, V)
    u /= u.sum()
    batchnoise = layout == "dpnn"
    idx = rng.integers(1, V + 1, k + N if batchnoise else (N, k + 1))
    am = c.Obj("torch.AliasMultinomial", {"J": _t(np.zeros(V, np.int64), "torch.LongTensor"), "q": _t(np.ones(V)),
                                          "dpnn_parameters": {1: "J", 2: "q"}})
    fields = dict(weight=_t(W), bias=_t(b), gradWeight=_t(np.zeros_like(W)), gradBias=_t(np.zeros_like(b)),
                  k=k, unigrams=_t(u), Z=_t(np.array([1.0])), batchnoise=batchnoise, aliasmultinomial=am,
                  train=True, _type="torch.DoubleTensor", sampleidx=_t(idx, "torch.LongTensor"),
                  sampleprob=_t(u[idx - 1]), _noiseidx=_t(idx, "torch.LongTensor"), _noiseprob=_t(u[idx.ravel() - 1]),
                  _weight=_t(W[idx.ravel() - 1]), _bias=_t(b[idx.ravel() - 1]), _pm=_t(rng.random((N, D))),
                  _gradWeight=_t(np.zeros((idx.size, D))), _gradOutput=_t(rng.random((N, k))),
                  output={i: _t(rng.random(N)) for i in range(1, 5)}, gradInput={1: _t(rng.random((N, D))),
                                                                             2: _t(np.zeros(N))})
    if batchnoise:
        fields["_tgradOutput"] = _t(rng.random(N))
    else:
        fields.update(_sampleidx=_t(idx[:, 1:], "torch.LongTensor"), testedtargets=True, verbose=False)
    path = tmp_path / "nce.t7"
    path.write_bytes(c.dumps(c.Obj("nn.NCEModule", fields)))
    x, t = rng.standard_normal((N, D)), rng.integers(1, V + 1, N)
    put(lua, "x", x)
    put_long(lua, "t", t)
    lua.execute(f"m = torch.load('{path}'); m:fastNoise(); torch.manualSeed(2); o = m:forward({{x, t}}); "
                "m:backward({x, t}, nn.NCECriterion():backward(o, t))")
    sidx = get(lua, "m.sampleidx").astype(np.int64).ravel()
    Pmt, Pms = scores_ref(x, W, b, sidx, 1.0, batchnoise, k)
    np.testing.assert_allclose(get(lua, "o[1]"), Pmt, rtol=1e-12)
    np.testing.assert_allclose(get(lua, "o[2]"), Pms, rtol=1e-12)
    assert np.abs(get(lua, "m.gradWeight")).sum() > 0
    lua.execute("m:evaluate(); m.normalized = true; p = m:forward({x, t})")
    logits = x @ W.T + b
    ref = np.exp(logits - logits.max(1, keepdims=True))
    np.testing.assert_allclose(get(lua, "p"), ref / ref.sum(1, keepdims=True), rtol=1e-12)


# ---------------------------------------------------------------- types
def test_float_keeps_the_noise_distribution(lua):
    rng = np.random.default_rng(10)
    N, D, V, k = 4, 3, 10, 5
    make(lua, D, V, k, Z=1)
    put(lua, "x", rng.standard_normal((N, D)))
    put_long(lua, "t", rng.integers(1, V + 1, N))
    lua.execute("torch.manualSeed(4); o = m:forward({x, t}); r = {o[1]:clone(), o[2]:clone(), o[3]:clone()}; "
                "m:float(); torch.manualSeed(4); f = m:forward({x:float(), t})")
    assert lua.eval("m.unigrams:type()") == "torch.DoubleTensor"
    assert lua.eval("m.aliasmultinomial.J:type()") == "torch.LongTensor"
    assert lua.eval("f[1]:type()") == "torch.FloatTensor" and lua.eval("m.gradWeight:type()") == "torch.FloatTensor"
    for i in (1, 2, 3):
        np.testing.assert_allclose(get(lua, f"f[{i}]"), get(lua, f"r[{i}]"), rtol=1e-5)


# ---------------------------------------------------------------- bad input
@pytest.mark.parametrize("call, message", [
    ("m:forward(x)", r"training expects the input \{x, target\} \(x batch x 3"),
    ("m:forward({torch.randn(4, 2), t})", r"input\[1\] must be batch x 3, got a 2D torch.DoubleTensor of size 4x2"),
    ("m:forward({x:float(), t})", r"input\[1\] is a torch.FloatTensor but the module holds torch.DoubleTensor"),
    ("m:forward({x, t:double()})", r"input\[2\] \(the targets\) must be a 1D torch.LongTensor of 4 classes"),
    ("m:forward({x, torch.LongTensor{1, 2, 11, 3}})", r"input\[2\] holds class 11, outside 1..10"),
    ("m:forward({x, torch.LongTensor{1, 2}})", r"must be a 1D torch.LongTensor of 4 classes"),
    ("m:backward({x, t}, {torch.zeros(4), torch.zeros(4, 5)})", r"backward needs the training forward"),
    ("m:forward({x, t}); m:backward({x, t}, torch.zeros(4))", r"gradOutput must be the table \{dPmt, dPms"),
    ("m:forward({x, t}); m:backward({x, t}, {torch.zeros(4), torch.zeros(4, 2)})",
     r"gradOutput\[1\] must hold 4 values and gradOutput\[2\] be 4 x 5"),
    ("m.noiseSample = function(self, idx, n, k) return idx:resize(n, k):fill(12) end; m:forward({x, t})",
     r"noiseSample drew class 12, outside 1..10"),
    ("nn.NCEModule(3, 10, 0, torch.ones(10))", r"expects k \(the number of noise samples"),
    ("nn.NCEModule(3, 10, 2, torch.ones(9))", r"expects the unigrams as a tensor of 10 counts"),
    ("nn.NCECriterion():forward({torch.rand(4), torch.rand(4, 3), torch.rand(4)}, t)",
     r"<nn.NCECriterion> expects \{Pmt \(batch\), Pms \(batch x k\)"),
    ("nn.NCECriterion():forward(torch.rand(4), t)", r"expects the output \{Pmt, Pms, Pnt, Pns\}"),
])
def test_bad_input_is_named(lua, call, message):
    make(lua, 3, 10, 5)
    put(lua, "x", np.ones((4, 3)))
    put_long(lua, "t", np.array([1, 2, 3, 4]))
    with pytest.raises(st.LuaError, match=message) as info:
        lua.execute(call)
    assert "<nn.NCE" in str(info.value)
