"""Loss functions (forward only) against NumPy references."""
import numpy as np
import pytest

import sparktorch7 as st

DTYPES = [np.float32, np.float64]


@pytest.fixture
def nnlua():
    state = st.LuaState()
    state.execute("require 'nn'")
    yield state
    state.close()


def loss(state, ctor, x, t, dtype, setup=""):
    f = state.eval(f"""function(x, t, tname)
        local c = {ctor}
        {setup}
        c:type(tname)
        return (c:forward(x, t))   -- ClassNLLCriterion also returns the total weight
    end""")
    cast = lambda v: [cast(a) for a in v] if isinstance(v, list) else (
        v.astype(dtype) if isinstance(v, np.ndarray) and v.dtype.kind == "f" else v)
    return f(cast(x), cast(t), {np.float32: "torch.FloatTensor", np.float64: "torch.DoubleTensor"}[dtype])


def close(dtype):
    return dict(rel=2e-5) if dtype == np.float32 else dict(rel=1e-10)


def rng(seed=0):
    return np.random.default_rng(seed)


@pytest.mark.parametrize("dtype", DTYPES)
def test_regression_losses(nnlua, dtype):
    r = rng(1)
    x, t = r.standard_normal((4, 5)), r.standard_normal((4, 5))
    cx, ct = x.astype(dtype).astype(float), t.astype(dtype).astype(float)
    d = cx - ct
    assert loss(nnlua, "nn.MSECriterion()", x, t, dtype) == pytest.approx((d ** 2).mean(), **close(dtype))
    assert loss(nnlua, "nn.MSECriterion(false)", x, t, dtype) == pytest.approx((d ** 2).sum(), **close(dtype))
    assert loss(nnlua, "nn.AbsCriterion()", x, t, dtype) == pytest.approx(np.abs(d).mean(), **close(dtype))
    sl1 = np.where(np.abs(d) < 1, 0.5 * d ** 2, np.abs(d) - 0.5)
    assert loss(nnlua, "nn.SmoothL1Criterion()", x, t, dtype) == pytest.approx(sl1.mean(), **close(dtype))
    p = r.uniform(0.1, 1, (4, 5))
    lp = np.log(r.uniform(0.1, 1, (4, 5)))
    cp, clp = p.astype(dtype).astype(float), lp.astype(dtype).astype(float)
    assert loss(nnlua, "nn.DistKLDivCriterion()", lp, p, dtype) == pytest.approx(
        (cp * (np.log(cp) - clp)).mean(), **close(dtype))


@pytest.mark.parametrize("dtype", DTYPES)
def test_classification_losses(nnlua, dtype):
    r = rng(2)
    z = r.standard_normal((6, 4))
    y = np.array([1, 4, 2, 2, 3, 1], dtype=np.int64)
    cz = z.astype(dtype).astype(float)
    logp = cz - np.log(np.exp(cz).sum(1, keepdims=True))
    nll = -logp[np.arange(6), y - 1]
    assert loss(nnlua, "nn.CrossEntropyCriterion()", z, y, dtype) == pytest.approx(nll.mean(), **close(dtype))
    assert loss(nnlua, "nn.ClassNLLCriterion()", logp.astype(dtype), y, dtype) == pytest.approx(nll.mean(), **close(dtype))
    assert loss(nnlua, "nn.ClassNLLCriterion(nil, false)", logp.astype(dtype), y, dtype) == pytest.approx(
        nll.sum(), **close(dtype))
    w = np.array([1.0, 2.0, 0.5, 3.0])
    weighted = (w[y - 1] * nll).sum() / w[y - 1].sum()
    f = nnlua.eval("""function(x, t, w) return (nn.ClassNLLCriterion(w):forward(x, t)) end""")
    assert f(logp, y, w) == pytest.approx(weighted, rel=1e-10)
    assert loss(nnlua, "nn.ClassNLLCriterion()", logp[0].astype(dtype), 3, dtype) == pytest.approx(
        -logp[0, 2], **close(dtype))
    prob = r.uniform(0.05, 0.95, (3, 4))
    tgt = (r.random((3, 4)) > 0.5).astype(np.float64)
    cpr = prob.astype(dtype).astype(float)
    bce = -(tgt * np.log(cpr + 1e-12) + (1 - tgt) * np.log(1 - cpr + 1e-12))
    assert loss(nnlua, "nn.BCECriterion()", prob, tgt, dtype) == pytest.approx(bce.mean(), **close(dtype))
    s = np.array([[0.1, 0.9, 0.3], [1.2, -0.3, 0.4]])
    ys = np.array([2, 1], dtype=np.int64)
    mm = 0
    for row, k in zip(s, ys):
        mm += sum(max(0, 1 - row[k - 1] + row[i]) for i in range(3) if i != k - 1) / 3
    assert loss(nnlua, "nn.MultiMarginCriterion()", s, ys, dtype) == pytest.approx(mm / 2, **close(dtype))


@pytest.mark.parametrize("dtype", DTYPES)
def test_margin_losses(nnlua, dtype):
    r = rng(3)
    x = r.standard_normal(8)
    y = np.where(r.random(8) > 0.5, 1.0, -1.0)
    cx = x.astype(dtype).astype(float)
    assert loss(nnlua, "nn.MarginCriterion(0.5)", x, y, dtype) == pytest.approx(
        np.maximum(0, 0.5 - y * cx).mean(), **close(dtype))
    assert loss(nnlua, "nn.SoftMarginCriterion()", x, y, dtype) == pytest.approx(
        np.log1p(np.exp(-y * cx)).mean(), **close(dtype))
    assert loss(nnlua, "nn.HingeEmbeddingCriterion(0.7)", x, y, dtype) == pytest.approx(
        np.where(y > 0, cx, np.maximum(0, 0.7 - cx)).mean(), **close(dtype))
    a, b = r.standard_normal(8), r.standard_normal(8)
    ca, cb = a.astype(dtype).astype(float), b.astype(dtype).astype(float)
    assert loss(nnlua, "nn.MarginRankingCriterion(0.2)", [a, b], y, dtype) == pytest.approx(
        np.maximum(0, -y * (ca - cb) + 0.2).mean(), **close(dtype))
    A, B = r.standard_normal((8, 3)), r.standard_normal((8, 3))
    cA, cB = A.astype(dtype).astype(float), B.astype(dtype).astype(float)
    cos = (cA * cB).sum(1) / np.sqrt(((cA ** 2).sum(1) + 1e-12) * ((cB ** 2).sum(1) + 1e-12))
    assert loss(nnlua, "nn.CosineEmbeddingCriterion(0.1)", [A, B], y, dtype) == pytest.approx(
        np.where(y > 0, 1 - cos, np.maximum(0, cos - 0.1)).mean(), **close(dtype))


def test_combined_criterions(nnlua):
    x, t = np.array([1.0, 2.0]), np.array([0.0, 0.0])
    v = nnlua.eval("""function(x, t)
        local m = nn.MultiCriterion():add(nn.MSECriterion(), 0.5):add(nn.AbsCriterion(), 2)
        local p = nn.ParallelCriterion():add(nn.MSECriterion()):add(nn.AbsCriterion(), 3)
        return m:forward(x, t), p:forward({x, x}, {t, t}), nn.ParallelCriterion(true):add(nn.MSECriterion()):forward({x}, t)
    end""")(x, t)
    assert v == pytest.approx((0.5 * 2.5 + 2 * 1.5, 2.5 + 3 * 1.5, 2.5))


def test_criterion_backward_is_update_grad_input(nnlua):
    g = nnlua.eval("nn.MSECriterion():backward(torch.Tensor({1, 3}), torch.zeros(2))")
    np.testing.assert_allclose(g, [1.0, 3.0])
    assert nnlua.eval("tostring(nn.ClassNLLCriterion())") == "nn.ClassNLLCriterion"
    assert nnlua.eval("nn.MSECriterion()(torch.ones(2), torch.zeros(2))") == 1


def test_criterion_base_and_types(nnlua):
    r = nnlua.eval("""(function()
        local c = nn.MSECriterion():float()
        local v = c:forward(torch.FloatTensor({1, 2}), torch.FloatTensor({0, 0}))
        return torch.isTypeOf(c, 'nn.Criterion'), v, torch.type(c:clone())
    end)()""")
    assert r == (True, 2.5, "nn.MSECriterion")
