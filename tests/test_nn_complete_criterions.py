"""The criterions of torch/nn that issue #12 completed (SpatialClassNLL, SpatialAutoCropMSE,
ClassSimplex, WeightedMSE, L1HingeEmbedding, MultiLabelMargin, MultiLabelSoftMargin, L1Cost,
DistanceRatio, ModuleCriterion) and nn.StochasticGradient: each loss and gradInput against a
NumPy reference written here from the definition (float and double, sizeAverage on and off,
with and without weights), the gradients against central finite differences (doubles), a
save/load round trip, the argument errors; CrossEntropyCriterion's handling of
nll.sizeAverage; and StochasticGradient's epochs against the same SGD steps in NumPy."""
import numpy as np
import pytest

import sparktorch7 as st
import t7craft
from sparktorch7 import LuaError
from gradcheck import install
from schema_helpers import expect, load_error

DTYPES = [np.float32, np.float64]
TNAME = {np.float32: "torch.FloatTensor", np.float64: "torch.DoubleTensor"}
FD_TOL = 1e-7


@pytest.fixture
def lua():
    state = st.LuaState()
    install(state)
    yield state
    state.close()


def tol(dtype):
    return dict(rtol=2e-5, atol=1e-6) if dtype == np.float32 else dict(rtol=1e-11, atol=1e-13)


def cast(v, dtype):
    """Floating arrays (also inside lists) as dtype; integer targets and numbers unchanged."""
    if isinstance(v, list):
        return [cast(a, dtype) for a in v]
    if isinstance(v, np.ndarray) and v.dtype.kind == "f":
        return v.astype(dtype)
    return v


def exact(v, dtype):
    """What the criterion sees of v, in float64 (for the references)."""
    if isinstance(v, list):
        return [exact(a, dtype) for a in v]
    if isinstance(v, np.ndarray) and v.dtype.kind == "f":
        return v.astype(dtype).astype(np.float64)
    return v


def as_list(g):
    """A gradInput table (a dict 1..n from Lua) as a list."""
    return [g[k] for k in sorted(g)] if isinstance(g, dict) else g


def run(lua, ctor, x, t, dtype, setup=""):
    """Loss and gradInput of the criterion `ctor` (Lua) cast to dtype, on x and t."""
    f = lua.eval(f"""function(x, t, tname)
        local c = {ctor}
        {setup}
        c:type(tname)
        local loss = c:forward(x, t)
        local loss2 = c:forward(x, t)
        assert(loss == loss2 and c.output == loss, 'forward is not repeatable or self.output differs')
        return loss, gradcheck.clone(c:backward(x, t)), torch.type(gradcheck.leaves(c.gradInput)[1])
    end""")
    loss, g, gtype = f(cast(x, dtype), cast(t, dtype), TNAME[dtype])
    assert gtype == TNAME[dtype]
    return loss, as_list(g)


def check_fd(lua, ctor, x, t):
    """Central finite differences of the criterion in double against its backward."""
    f = lua.eval(f"""function(x, t)
        local c = {ctor}
        return gradcheck.criterion(c, x, t)
    end""")
    err, scale = f(x, t)
    assert err < FD_TOL, f"{ctor}: gradient off by {err}"
    assert scale > 1e-4, f"{ctor}: the gradient is (nearly) 0, nothing was checked"


def round_trip(lua, tmp_path, ctor, x, t):
    """A saved criterion loads back as its class and gives the same loss and gradient."""
    path = str(tmp_path / "c.t7")
    f = lua.eval(f"""function(x, t, path)
        local c = {ctor}
        local before = c:forward(x, t)
        local g = gradcheck.clone(c:backward(x, t))
        torch.save(path, c)
        local back = torch.load(path)
        local after = back:forward(x, t)
        local g2 = back:backward(x, t)
        local diff = 0
        local a, b = gradcheck.leaves(g), gradcheck.leaves(g2)
        for i = 1, #a do diff = math.max(diff, (a[i] - b[i]):abs():max()) end
        return torch.type(back), before, after, diff, #a == #b
    end""")
    name, before, after, diff, same = f(x, t, path)
    assert name == ctor.split("(")[0]
    assert before == after and diff == 0 and same


def rng(seed):
    return np.random.default_rng(seed)


def assert_error(lua, code, name, message):
    """code (Lua) raises a LuaError saying `<name> message`, its traceback reaching the chunk."""
    with pytest.raises(LuaError) as e:
        lua.execute(code)
    text = str(e.value)
    assert f"<{name}> {message}" in text
    assert '[string "' in text


# ---------------------------------------------------------------- SpatialClassNLLCriterion

def spatial_nll_ref(x, t, w, size_average):
    n, c, h, wd = x.shape
    w = np.ones(c) if w is None else w
    loss, total = 0.0, 0.0
    g = np.zeros_like(x)
    for b in range(n):
        for i in range(h):
            for j in range(wd):
                k = t[b, i, j] - 1
                loss -= w[k] * x[b, k, i, j]
                total += w[k]
                g[b, k, i, j] = -w[k]
    if size_average:
        loss, g = loss / total, g / total
    return loss, total, g


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("size_average", [True, False])
@pytest.mark.parametrize("weighted", [False, True])
def test_spatial_class_nll(lua, dtype, size_average, weighted):
    r = rng(1)
    x = np.log(r.uniform(0.05, 1, (2, 4, 5, 3)))
    t = r.integers(1, 5, (2, 5, 3))
    w = r.uniform(0.2, 2, 4) if weighted else None
    ctor = f"nn.SpatialClassNLLCriterion({'w' if weighted else 'nil'}, {str(size_average).lower()})"
    lua.globals().w = w
    loss, g = run(lua, ctor, x, t, dtype)
    ref, _, gref = spatial_nll_ref(exact(x, dtype), t, w, size_average)
    assert loss == pytest.approx(ref, rel=tol(dtype)["rtol"])
    np.testing.assert_allclose(g, gref, **tol(dtype))


def test_spatial_class_nll_total_weight_targets_of_any_type_and_classnll(lua):
    r = rng(2)
    x = np.log(r.uniform(0.05, 1, (3, 6, 4, 7)))
    t = r.integers(1, 7, (3, 4, 7))
    w = r.uniform(0.2, 2, 6)
    f = lua.eval("""function(x, t, w)
        local c = nn.SpatialClassNLLCriterion(w)
        local loss, total = c:forward(x, t)
        local lossD = c:forward(x, t:double())
        local lossI = c:forward(x, t:int())
        -- Torch7's check: the same as ClassNLLCriterion over the pixels as rows
        local flat = nn.ClassNLLCriterion(w):forward(x:permute(1, 3, 4, 2):contiguous():view(-1, 6), t:view(-1))
        return loss, total, lossD, lossI, flat, c.total_weight_tensor[1]
    end""")
    loss, total, loss_d, loss_i, flat, stored = f(x, t, w)
    ref, total_ref, _ = spatial_nll_ref(x, t, w, True)
    assert loss == pytest.approx(ref, rel=1e-12) and total == pytest.approx(total_ref, rel=1e-12)
    assert loss_d == loss and loss_i == loss and stored == total
    assert flat == pytest.approx(ref, rel=1e-12)


def test_spatial_class_nll_large_map_and_non_contiguous_input(lua):
    r = rng(3)
    x = np.log(r.uniform(0.05, 1, (2, 5, 96, 80)))
    t = r.integers(1, 6, (2, 96, 80))
    f = lua.eval("""function(x, t)
        local c = nn.SpatialClassNLLCriterion(nil, false)
        -- the same values through a transposed (non-contiguous) view
        local xt = x:transpose(3, 4):contiguous():transpose(3, 4)
        assert(not xt:isContiguous())
        return c:forward(xt, t), c:backward(xt, t):clone()
    end""")
    loss, g = f(x, t)
    b, i, j = np.meshgrid(np.arange(2), np.arange(96), np.arange(80), indexing="ij")
    picked = x[b, t - 1, i, j]
    assert loss == pytest.approx(-picked.sum(), rel=1e-12)
    gref = np.zeros_like(x)
    gref[b, t - 1, i, j] = -1
    np.testing.assert_array_equal(g, gref)


def test_spatial_class_nll_gradient_and_round_trip(lua, tmp_path):
    lua.execute("x = torch.randn(2, 3, 4, 5); t = torch.LongTensor(2, 4, 5):random(1, 3); w = torch.rand(3) + 0.5")
    for ctor in ["nn.SpatialClassNLLCriterion()", "nn.SpatialClassNLLCriterion(w)",
                 "nn.SpatialClassNLLCriterion(w, false)"]:
        check_fd(lua, ctor, lua.globals().x, lua.globals().t)
    round_trip(lua, tmp_path, "nn.SpatialClassNLLCriterion(torch.rand(3) + 0.5)",
               lua.globals().x, lua.globals().t)


@pytest.mark.parametrize("code, message", [
    ("c:forward(torch.randn(3, 4, 5), torch.ones(3, 4, 5))", "input must be a 4D tensor (batch x classes x height x width), not a 3D"),
    ("c:forward(torch.randn(2, 3, 4, 5), torch.ones(2, 4))", "target must be a 3D tensor (batch x height x width) of classes, not a 2D"),
    ("c:forward(torch.randn(2, 3, 4, 5), torch.ones(2, 5, 4))", "size mismatch: the target must be 2x4x5 for an input of size 2x3x4x5, not a 3D torch.DoubleTensor of size 2x5x4"),
    ("c:forward(torch.randn(2, 3, 4, 5), torch.ones(2, 4, 5):fill(4))", "target 4 out of range [1, 3]"),
    ("c:backward(torch.randn(2, 3, 4, 5), torch.zeros(2, 4, 5))", "target 0 out of range [1, 3]"),
    ("nn.SpatialClassNLLCriterion(torch.ones(4)):forward(torch.randn(2, 3, 4, 5), torch.ones(2, 4, 5))", "weights has 4 elements, the input 3 classes"),
    ("nn.SpatialClassNLLCriterion(torch.ones(2, 2))", "weights must be a 1D tensor"),
])
def test_spatial_class_nll_errors(lua, code, message):
    lua.execute("c = nn.SpatialClassNLLCriterion()")
    assert_error(lua, code, "nn.SpatialClassNLLCriterion", message)


# ---------------------------------------------------------------- SpatialAutoCropMSECriterion

def centre(t, h, w):
    th, tw = t.shape[-2:]
    top, left = (th - h) // 2, (tw - w) // 2
    return t[..., top:top + h, left:left + w]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("size_average", [True, False])
@pytest.mark.parametrize("shape, tshape", [((3, 5, 4), (3, 8, 7)), ((2, 3, 6, 5), (2, 3, 6, 8)),
                                           ((2, 2, 3, 3), (2, 2, 3, 3))])
def test_spatial_auto_crop_mse(lua, dtype, size_average, shape, tshape):
    r = rng(4)
    x, t = r.standard_normal(shape), r.standard_normal(tshape)
    ctor = f"nn.SpatialAutoCropMSECriterion({str(size_average).lower()})"
    loss, g = run(lua, ctor, x, t, dtype)
    cx, ct = exact(x, dtype), centre(exact(t, dtype), *shape[-2:])
    d = cx - ct
    n = d.size if size_average else 1
    assert loss == pytest.approx((d ** 2).sum() / n, rel=tol(dtype)["rtol"])
    np.testing.assert_allclose(g, 2 * d / n, **tol(dtype))
    # backward also takes the target already cut to the input's size (Torch7's only form)
    f = lua.eval(f"function(x, t) local c = {ctor}; c:forward(x, t); return c:backward(x, t:clone()) end")
    np.testing.assert_allclose(f(x, np.ascontiguousarray(centre(t, *shape[-2:]))), 2 * (x - centre(t, *shape[-2:])) / n,
                               rtol=1e-12)


def test_spatial_auto_crop_mse_gradient_and_round_trip(lua, tmp_path):
    lua.execute("x = torch.randn(2, 3, 4, 3); t = torch.randn(2, 3, 7, 4)")
    check_fd(lua, "nn.SpatialAutoCropMSECriterion()", lua.globals().x, lua.globals().t)
    check_fd(lua, "nn.SpatialAutoCropMSECriterion(false)", lua.globals().x, lua.globals().t)
    round_trip(lua, tmp_path, "nn.SpatialAutoCropMSECriterion(false)", lua.globals().x, lua.globals().t)


@pytest.mark.parametrize("x, t, message", [
    ("torch.Tensor(3, 3, 3)", "torch.Tensor(4, 3, 3)", "target and input must have the same number of channels"),
    ("torch.Tensor(2, 4, 3, 3)", "torch.Tensor(2, 3, 3, 3)", "target and input must have the same number of channels"),
    ("torch.Tensor(2, 3, 3, 3)", "torch.Tensor(1, 3, 3, 3)", "target and input must have the same batch size"),
    ("torch.Tensor(2, 5, 5)", "torch.Tensor(2, 5, 4)", "the input resolution (5x5) must be smaller than or equal to the spatial resolution of the target (5x4)"),
    ("torch.Tensor(1, 2, 5, 5)", "torch.Tensor(1, 2, 4, 5)", "the input resolution (5x5) must be smaller than or equal to the spatial resolution of the target (4x5)"),
    ("torch.Tensor(2, 5)", "torch.Tensor(2, 5)", "input and target must both be 3D (C x H x W) or 4D (N x C x H x W), not a 2D torch.DoubleTensor of size 2x5"),
])
def test_spatial_auto_crop_mse_errors(lua, x, t, message):
    assert_error(lua, f"nn.SpatialAutoCropMSECriterion():forward({x}, {t})", "nn.SpatialAutoCropMSECriterion", message)


# ---------------------------------------------------------------- ClassSimplexCriterion

def simplex_ref(n_classes):
    """The vertices of Torch7's regular simplex, row by row: vertex k has zeros after
    coordinate k, and the coordinate k of every later vertex is the value that makes the
    pairwise dot products -1/n."""
    n = n_classes - 1
    a = np.zeros((n + 1, n))
    for k in range(n):
        a[k, k] = np.sqrt(1 - np.sum(a[k, :k] ** 2))
        a[k + 1:, k] = (a[k, k] ** 2 - 1 - 1 / n) / a[k, k]
    return np.hstack([a, np.zeros((n + 1, 1))])


@pytest.mark.parametrize("n_classes", [2, 3, 7])
def test_class_simplex_vertices(lua, n_classes):
    s = lua.eval(f"nn.ClassSimplexCriterion({n_classes}).simplex")
    ref = simplex_ref(n_classes)
    np.testing.assert_allclose(s, ref, rtol=1e-12, atol=1e-15)
    # a regular simplex of unit vectors centred at the origin
    gram = s @ s.T
    np.testing.assert_allclose(np.diag(gram), 1, rtol=1e-12)
    off = gram[~np.eye(n_classes, dtype=bool)]
    np.testing.assert_allclose(off, -1 / (n_classes - 1), rtol=1e-10)
    np.testing.assert_allclose(s.sum(0), 0, atol=1e-12)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("size_average", [True, False])
def test_class_simplex(lua, dtype, size_average):
    r = rng(5)
    s = simplex_ref(6)
    x = r.standard_normal((4, 6))
    t = np.array([3, 1, 6, 3])
    setup = "" if size_average else "c.sizeAverage = false"
    loss, g = run(lua, "nn.ClassSimplexCriterion(6)", x, t, dtype, setup)
    d = exact(x, dtype) - s[t - 1]
    n = d.size if size_average else 1
    assert loss == pytest.approx((d ** 2).sum() / n, rel=tol(dtype)["rtol"])
    np.testing.assert_allclose(g, 2 * d / n, **tol(dtype))
    # one sample, the class as a number
    loss1, g1 = run(lua, "nn.ClassSimplexCriterion(6)", x[1], 4, dtype, setup)
    d1 = exact(x[1], dtype) - s[3]
    n1 = 6 if size_average else 1
    assert loss1 == pytest.approx((d1 ** 2).sum() / n1, rel=tol(dtype)["rtol"])
    np.testing.assert_allclose(g1, 2 * d1 / n1, **tol(dtype))


def test_class_simplex_predictions_gradient_and_round_trip(lua, tmp_path):
    r = rng(6)
    x = r.standard_normal((5, 4))
    f = lua.eval("function(x) local c = nn.ClassSimplexCriterion(4); return c:getPredictions(x), c:getTopPrediction(x), c:getPredictions(x[1]) end")
    pred, top, pred1 = f(x)
    s = simplex_ref(4)
    np.testing.assert_allclose(pred, x @ s.T, rtol=1e-12)
    np.testing.assert_array_equal(top, np.argmax(x @ s.T, axis=1) + 1)
    np.testing.assert_allclose(pred1, (x[0] @ s.T)[None], rtol=1e-12)
    check_fd(lua, "nn.ClassSimplexCriterion(4)", x, np.array([2, 4, 1, 1, 3]))
    check_fd(lua, "nn.ClassSimplexCriterion(4)", x[0], 3)
    round_trip(lua, tmp_path, "nn.ClassSimplexCriterion(4)", x, np.array([2, 4, 1, 1, 3]))


@pytest.mark.parametrize("code, message", [
    ("nn.ClassSimplexCriterion(1)", "nClasses must be an integer > 1, not 1"),
    ("nn.ClassSimplexCriterion(2.5)", "nClasses must be an integer > 1, not 2.5"),
    ("nn.ClassSimplexCriterion(3):forward(torch.randn(3), 4)", "target 4 out of range [1, 3]"),
    ("nn.ClassSimplexCriterion(3):forward(torch.randn(2, 3), torch.Tensor{1, 0})", "target 0 out of range [1, 3]"),
    ("nn.ClassSimplexCriterion(3):forward(torch.randn(2, 3), torch.ones(2, 3))", "target must be a class number or a 1D tensor of classes, not a 2D"),
    ("nn.ClassSimplexCriterion(3):forward(torch.randn(2, 4), torch.Tensor{1, 2})", "input has 8 elements, target 6"),
])
def test_class_simplex_errors(lua, code, message):
    assert_error(lua, code, "nn.ClassSimplexCriterion", message)


# ---------------------------------------------------------------- WeightedMSECriterion

@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("size_average", [True, False])
@pytest.mark.parametrize("batched", [False, True])
def test_weighted_mse(lua, dtype, size_average, batched):
    r = rng(7)
    w = r.uniform(0.5, 2, (3, 4))
    shape = (5, 3, 4) if batched else (3, 4)
    x, t = r.standard_normal(shape), r.standard_normal(shape)
    lua.globals().w = w
    setup = "" if size_average else "c.sizeAverage = false"
    loss, g = run(lua, "nn.WeightedMSECriterion(w)", x, t, dtype, setup)
    d = exact(x, dtype) - w.astype(np.float64) * exact(t, dtype)     # w repeats over the batch
    n = d.size if size_average else 1
    assert loss == pytest.approx((d ** 2).sum() / n, rel=tol(dtype)["rtol"])
    np.testing.assert_allclose(g, 2 * d / n, **tol(dtype))


def test_weighted_mse_keeps_its_own_weight_gradient_and_round_trip(lua, tmp_path):
    lua.execute("w = torch.rand(6) + 0.5; c = nn.WeightedMSECriterion(w); w:fill(100)")
    assert lua.eval("c.weight:max()") < 2
    r = rng(8)
    x, t = r.standard_normal((4, 6)), r.standard_normal((4, 6))
    check_fd(lua, "nn.WeightedMSECriterion(torch.rand(6) + 0.5)", x, t)
    check_fd(lua, "nn.WeightedMSECriterion(torch.rand(4, 6) + 0.5)", x, t)
    round_trip(lua, tmp_path, "nn.WeightedMSECriterion(torch.rand(6) + 0.5)", x, t)
    assert_error(lua, "nn.WeightedMSECriterion(torch.ones(5)):forward(torch.randn(4, 6), torch.randn(4, 6))",
                 "nn.WeightedMSECriterion", "a weight of 5 elements does not fit an input of 24 in 4 rows")
    assert_error(lua, "nn.WeightedMSECriterion(3)", "nn.WeightedMSECriterion", "the weight must be a tensor, not the number 3")


# ---------------------------------------------------------------- L1HingeEmbeddingCriterion

@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("y, margin", [(1, None), (-1, 30.0), (-1, 0.5)])
def test_l1_hinge_embedding(lua, dtype, y, margin):
    r = rng(9)
    a, b = r.standard_normal((3, 4)), r.standard_normal((3, 4))
    ctor = f"nn.L1HingeEmbeddingCriterion({'' if margin is None else margin})"
    loss, (g1, g2) = run(lua, ctor, [a, b], y, dtype)
    ca, cb = exact(a, dtype), exact(b, dtype)
    d = np.abs(ca - cb).sum()
    m = 1 if margin is None else margin
    ref = d if y == 1 else max(0.0, m - d)
    assert loss == pytest.approx(ref, rel=tol(dtype)["rtol"])
    sign = np.sign(ca - cb)
    gref = sign if y == 1 else (-sign if d <= m else np.zeros_like(sign))
    np.testing.assert_array_equal(g1, gref)
    np.testing.assert_array_equal(g2, -gref)


def test_l1_hinge_embedding_gradient_ties_and_round_trip(lua, tmp_path):
    r = rng(10)
    a, b = r.standard_normal(6), r.standard_normal(6)
    check_fd(lua, "nn.L1HingeEmbeddingCriterion()", [a, b], 1)
    check_fd(lua, "nn.L1HingeEmbeddingCriterion(40)", [a, b], -1)
    round_trip(lua, tmp_path, "nn.L1HingeEmbeddingCriterion(40)", [a, b], -1)
    # a label held in a one-element tensor counts as its number
    same = lua.eval("""function(a, b)
        local c = nn.L1HingeEmbeddingCriterion(40)
        return c:forward({a, b}, torch.Tensor{-1}) == c:forward({a, b}, -1)
               and c:forward({a, b}, torch.LongTensor{1}) == c:forward({a, b}, 1)
    end""")(a, b)
    assert same
    # where x1 = x2 the sign is +1 or -1 at random (Torch7's draw), never 0
    g = lua.eval("""(function()
        local c = nn.L1HingeEmbeddingCriterion()
        local x = torch.zeros(200)
        return c:backward({x, x:clone()}, 1)[1]:clone()
    end)()""")
    assert set(np.unique(g)) == {-1.0, 1.0}
    for code, message in [
        ("nn.L1HingeEmbeddingCriterion():forward(torch.randn(3), 1)", "input must be a table of two tensors {x1, x2}, not a 1D torch.DoubleTensor of size 3"),
        ("nn.L1HingeEmbeddingCriterion():forward({torch.randn(3), torch.randn(4)}, 1)", "x1 has 3 elements, x2 4"),
        ("nn.L1HingeEmbeddingCriterion():forward({torch.randn(3), torch.randn(3)}, 0)", "the label must be 1 or -1, not 0"),
    ]:
        assert_error(lua, code, "nn.L1HingeEmbeddingCriterion", message)


# ---------------------------------------------------------------- MultiLabelMarginCriterion

def multilabel_margin_ref(x, t, size_average):
    x2, t2 = np.atleast_2d(x), np.atleast_2d(t)
    nframe, dim = x2.shape
    loss, g = 0.0, np.zeros_like(x2)
    for f in range(nframe):
        listed = []
        for v in t2[f]:
            if v == 0:
                break
            listed.append(v - 1)
        for j in listed:
            for i in range(dim):
                if i in listed:
                    continue
                z = 1 - x2[f, j] + x2[f, i]
                if z > 0:
                    loss += z
                    g[f, j] -= 1
                    g[f, i] += 1
    div = dim * (nframe if size_average else 1)
    return loss / div, (g / div).reshape(np.shape(x))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("size_average", [True, False])
def test_multilabel_margin(lua, dtype, size_average):
    r = rng(11)
    x = r.standard_normal((4, 5)) * 0.7
    # Torch7's layout: the classes first, then zeros; what follows the first 0 is ignored,
    # a class listed twice counts twice
    t = np.array([[1, 3, 0, 0, 0], [4, 0, 2, 0, 0], [5, 2, 1, 3, 4], [2, 2, 0, 0, 0]])
    setup = "" if size_average else "c.sizeAverage = false"
    loss, g = run(lua, "nn.MultiLabelMarginCriterion()", x, t, dtype, setup)
    ref, gref = multilabel_margin_ref(exact(x, dtype), t, size_average)
    assert loss == pytest.approx(ref, rel=tol(dtype)["rtol"])
    np.testing.assert_allclose(g, gref, **tol(dtype))
    # one sample (1D), with a float target as Torch7's doc writes it
    loss1, g1 = run(lua, "nn.MultiLabelMarginCriterion()", x[0], t[1].astype(np.float64), dtype, setup)
    ref1, gref1 = multilabel_margin_ref(exact(x[0], dtype), t[1], size_average)
    assert loss1 == pytest.approx(ref1, rel=tol(dtype)["rtol"])
    np.testing.assert_allclose(g1, gref1, **tol(dtype))


def test_multilabel_margin_is_target_and_many_chunks(lua):
    r = rng(12)
    x = r.standard_normal((60, 300)) * 0.01      # 60 x 300 x 300 margins: several chunks
    t = np.zeros((60, 300), np.int64)
    for f in range(60):
        k = r.integers(0, 5)
        t[f, :k] = r.choice(300, k, replace=False) + 1
    f = lua.eval("""function(x, t)
        local c = nn.MultiLabelMarginCriterion()
        return c:forward(x, t), c:backward(x, t):clone(), c.isTarget:clone()
    end""")
    loss, g, is_target = f(x, t)
    # per frame, vectorised over the classes
    ref, gref, marks = 0.0, np.zeros_like(x), np.zeros_like(x)
    for fr in range(60):
        listed = t[fr][:np.argmax(t[fr] == 0)] - 1 if (t[fr] == 0).any() else t[fr] - 1
        marks[fr, listed] = 1
        others = np.setdiff1d(np.arange(300), listed)
        for j in listed:
            z = 1 - x[fr, j] + x[fr, others]
            ref += z[z > 0].sum()
            gref[fr, others] += (z > 0)
            gref[fr, j] -= (z > 0).sum()
    assert loss == pytest.approx(ref / (300 * 60), rel=1e-12)
    np.testing.assert_allclose(g, gref / (300 * 60), rtol=1e-12, atol=1e-15)
    np.testing.assert_array_equal(is_target, marks)


def test_multilabel_margin_gradient_and_round_trip(lua, tmp_path):
    r = rng(13)
    x = r.standard_normal((3, 6)) * 0.3
    t = np.array([[2, 5, 0, 0, 0, 0], [1, 0, 0, 0, 0, 0], [6, 4, 3, 0, 0, 0]])
    check_fd(lua, "nn.MultiLabelMarginCriterion()", x, t)
    check_fd(lua, "nn.MultiLabelMarginCriterion()", x[0], t[0])
    # no classes listed at all: nothing to count
    loss, g = run(lua, "nn.MultiLabelMarginCriterion()", x, np.zeros((3, 6), np.int64), np.float64)
    assert loss == 0 and not g.any()
    round_trip(lua, tmp_path, "nn.MultiLabelMarginCriterion()", x, t)
    for code, message in [
        ("c:forward(torch.randn(2, 3, 4), torch.zeros(2, 3, 4))", "input must be a 1D or 2D tensor, not a 3D torch.DoubleTensor of size 2x3x4"),
        ("c:forward(torch.randn(2, 4), torch.zeros(4))", "target must be a tensor of the input's size 2x4, not a 1D torch.DoubleTensor of size 4"),
        ("c:forward(torch.randn(2, 4), torch.Tensor{{1, 5, 0, 0}, {1, 0, 0, 0}})", "target 5 out of range [0, 4] (0 ends a list)"),
        ("c:backward(torch.randn(4), torch.Tensor{-1, 0, 0, 0})", "target -1 out of range [0, 4] (0 ends a list)"),
    ]:
        lua.execute("c = nn.MultiLabelMarginCriterion()")
        assert_error(lua, code, "nn.MultiLabelMarginCriterion", message)


# ---------------------------------------------------------------- MultiLabelSoftMarginCriterion

@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("size_average", [True, False])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("shape", [(7,), (4, 7)])
def test_multilabel_soft_margin(lua, dtype, size_average, weighted, shape):
    r = rng(14)
    x = r.standard_normal(shape) * 3
    x.flat[0], x.flat[1] = 60.0, -60.0                 # far in both tails: the stable form
    t = (r.random(shape) > 0.5).astype(np.float64)
    t.flat[0], t.flat[1] = 0.0, 1.0
    w = r.uniform(0.2, 2, 7) if weighted else None
    lua.globals().w = w
    ctor = f"nn.MultiLabelSoftMarginCriterion({'w' if weighted else 'nil'}, {str(size_average).lower()})"
    loss, g = run(lua, ctor, x, t, dtype)
    cx = exact(x, dtype)
    # -log sigmoid(x) = log(1 + exp(-x)), -log(1 - sigmoid(x)) = log(1 + exp(x))
    per = t * np.logaddexp(0, -cx) + (1 - t) * np.logaddexp(0, cx)
    ww = np.ones(7) if w is None else w.astype(dtype).astype(np.float64)
    n = x.size if size_average else 1
    assert loss == pytest.approx((per * ww).sum() / n, rel=tol(dtype)["rtol"])
    np.testing.assert_allclose(g, (1 / (1 + np.exp(-cx)) - t) * ww / n, **tol(dtype))


def test_multilabel_soft_margin_gradient_and_round_trip(lua, tmp_path):
    r = rng(15)
    x = r.standard_normal((3, 5))
    t = (r.random((3, 5)) > 0.5).astype(np.float64)
    check_fd(lua, "nn.MultiLabelSoftMarginCriterion()", x, t)
    check_fd(lua, "nn.MultiLabelSoftMarginCriterion(torch.rand(5) + 0.5, false)", x, t)
    round_trip(lua, tmp_path, "nn.MultiLabelSoftMarginCriterion(torch.rand(5) + 0.5)", x, t)
    for code, message in [
        ("nn.MultiLabelSoftMarginCriterion(torch.ones(4)):forward(torch.randn(3, 5), torch.zeros(3, 5))",
         "weights has 4 elements, the target 5 classes (its last dimension)"),
        ("nn.MultiLabelSoftMarginCriterion(torch.ones(2, 2))", "weights must be a 1D tensor"),
        ("nn.MultiLabelSoftMarginCriterion():forward(torch.randn(3, 5), torch.zeros(3, 4))", "input has 15 elements, target 12"),
    ]:
        assert_error(lua, code, "nn.MultiLabelSoftMarginCriterion", message)


# ---------------------------------------------------------------- L1Cost

@pytest.mark.parametrize("dtype", DTYPES)
def test_l1_cost(lua, dtype, tmp_path):
    r = rng(16)
    x = r.standard_normal((3, 4))
    x[1, 2] = 0.0
    loss, g = run(lua, "nn.L1Cost()", x, None, dtype)
    assert loss == pytest.approx(np.abs(exact(x, dtype)).sum(), rel=tol(dtype)["rtol"])
    np.testing.assert_array_equal(g, np.sign(x))
    assert g[1, 2] == 0
    if dtype == np.float64:
        check_fd(lua, "nn.L1Cost()", r.standard_normal(7), None)
        round_trip(lua, tmp_path, "nn.L1Cost()", x, None)
        assert_error(lua, "nn.L1Cost():forward({1, 2})", "nn.L1Cost", "input must be a tensor, not a table")


# ---------------------------------------------------------------- DistanceRatioCriterion

@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("size_average", [True, False])
def test_distance_ratio(lua, dtype, size_average):
    r = rng(17)
    X, Y = r.uniform(0, 3, (6, 1)), r.uniform(0, 3, (6, 1))
    X[0], Y[0] = 800.0, 1.0                         # exp(-800) underflows: the stable form
    ctor = f"nn.DistanceRatioCriterion({str(size_average).lower()})"
    loss, (gx, gy) = run(lua, ctor, [X, Y], None, dtype)
    cX, cY = exact(X, dtype), exact(Y, dtype)
    # -log(exp(-X) / (exp(-X) + exp(-Y))) = X + log(exp(-X) + exp(-Y))
    per = cX + np.logaddexp(-cX, -cY)
    div = 6 if size_average else 1
    assert loss == pytest.approx(per.sum() / div, rel=tol(dtype)["rtol"])
    px = np.exp(-cX - np.logaddexp(-cX, -cY))          # exp(-X) / (exp(-X) + exp(-Y))
    np.testing.assert_allclose(gx, (1 - px) / div, **tol(dtype))
    np.testing.assert_allclose(gy, -(1 - px) / div, **tol(dtype))


def test_distance_ratio_torch7_values_gradient_and_round_trip(lua, tmp_path):
    # torch/nn's own check: X = Y = 1 over a batch of 32 gives log 2, gradients summing to +-0.5
    loss, dx, dy = lua.eval("""(function()
        local c = nn.DistanceRatioCriterion(true)
        local X, Y = torch.ones(32, 1), torch.ones(32, 1)
        local loss = c:forward({X, Y})
        local g = c:backward({X, Y})
        return loss, g[1]:sum(), g[2]:sum()
    end)()""")
    assert loss == pytest.approx(np.log(2), rel=1e-12)
    assert dx == pytest.approx(0.5, rel=1e-12) and dy == pytest.approx(-0.5, rel=1e-12)
    r = rng(18)
    X, Y = r.uniform(0, 2, (5, 3)), r.uniform(0, 2, (5, 3))
    check_fd(lua, "nn.DistanceRatioCriterion()", [X, Y], None)
    check_fd(lua, "nn.DistanceRatioCriterion(false)", [X, Y], None)
    round_trip(lua, tmp_path, "nn.DistanceRatioCriterion()", [X, Y], None)
    for code, message in [
        ("nn.DistanceRatioCriterion():forward({torch.ones(3)})", "input must be a table of two tensors {X, Y}, not a table"),
        ("nn.DistanceRatioCriterion():forward({torch.ones(3), torch.ones(4)})",
         "X and Y must have the same sizes, not a 1D torch.DoubleTensor of size 3 and a 1D torch.DoubleTensor of size 4"),
    ]:
        assert_error(lua, code, "nn.DistanceRatioCriterion", message)


# ---------------------------------------------------------------- ModuleCriterion

@pytest.mark.parametrize("dtype", DTYPES)
def test_module_criterion(lua, dtype):
    r = rng(19)
    x, t = r.standard_normal((4, 3)), r.standard_normal((4, 3))
    loss, g = run(lua, "nn.ModuleCriterion(nn.MSECriterion(), nn.Tanh(), nn.MulConstant(2))", x, t, dtype)
    y, tt = np.tanh(exact(x, dtype)), 2 * exact(t, dtype)
    assert loss == pytest.approx(((y - tt) ** 2).mean(), rel=tol(dtype)["rtol"])
    np.testing.assert_allclose(g, 2 * (y - tt) / y.size * (1 - y ** 2), **tol(dtype))
    # without modules it is the criterion itself
    loss0, g0 = run(lua, "nn.ModuleCriterion(nn.MSECriterion(false))", x, t, dtype)
    d = exact(x, dtype) - exact(t, dtype)
    assert loss0 == pytest.approx((d ** 2).sum(), rel=tol(dtype)["rtol"])
    np.testing.assert_allclose(g0, 2 * d, **tol(dtype))


def test_module_criterion_cast_target_warning_gradient_and_round_trip(lua, tmp_path):
    types = lua.eval("""(function()
        local a = nn.ModuleCriterion(nn.MSECriterion(), nn.Tanh(), nn.Linear(3, 3)):float()
        local b = nn.ModuleCriterion(nn.MSECriterion(), nn.Tanh(), nn.Linear(3, 3), false):float()
        return torch.type(a.targetModule.weight), torch.type(b.targetModule.weight), b.castTarget,
               torch.type(b.inputModule.output), torch.type(b.criterion.gradInput), a:type()
    end)()""")
    assert types == ("torch.FloatTensor", "torch.DoubleTensor", False, "torch.FloatTensor",
                     "torch.FloatTensor", "torch.FloatTensor")
    printed = lua.eval("""(function()
        local said = {}
        local p = print
        print = function(...) said[#said + 1] = table.concat({...}, ' ') end
        nn.ModuleCriterion(nn.MSECriterion(), nn.Linear(2, 2))
        nn.ModuleCriterion(nn.MSECriterion(), nn.Tanh())
        print = p
        return table.concat(said, '|')
    end)()""")
    assert printed == "Warning: nn.ModuleCriterion doesn't support parameter updates"
    r = rng(20)
    x, t = r.standard_normal((3, 4)), r.standard_normal((3, 4))
    check_fd(lua, "nn.ModuleCriterion(nn.MSECriterion(), nn.Sigmoid(), nn.Tanh())", x, t)
    round_trip(lua, tmp_path, "nn.ModuleCriterion(nn.MSECriterion(), nn.Sigmoid(), nn.Tanh())", x, t)
    for code, message in [
        ("nn.ModuleCriterion(nn.Tanh())", "expects an nn.Criterion, not a nn.Tanh"),
        ("nn.ModuleCriterion(nn.MSECriterion(), nn.MSECriterion())", "the inputModule must be an nn.Module, not a nn.MSECriterion"),
    ]:
        assert_error(lua, code, "nn.ModuleCriterion", message)


# ---------------------------------------------------------------- CrossEntropyCriterion

def test_cross_entropy_keeps_and_propagates_nll_size_average(lua, tmp_path):
    """Torch7: nll.sizeAverage set directly survives the calls (and a save/load round trip);
    a changed sizeAverage on the criterion reaches nll at the next call, once."""
    r = rng(21)
    x = r.standard_normal((4, 5))
    t = np.array([2, 5, 1, 2])
    logp = x - np.log(np.exp(x).sum(1, keepdims=True))
    nll = -logp[np.arange(4), t - 1]
    f = lua.eval("""function(x, t, path)
        local out = {}
        local c = nn.CrossEntropyCriterion()
        c.nll.sizeAverage = false
        for _ = 1, 3 do out[#out + 1] = c:forward(x, t); c:backward(x, t) end
        out[#out + 1] = c.nll.sizeAverage
        torch.save(path, c)
        local back = torch.load(path)
        out[#out + 1] = back:forward(x, t)
        out[#out + 1] = back.nll.sizeAverage
        c.sizeAverage = false                -- a change (it was true): reaches nll at the next call
        c.nll.sizeAverage = true
        out[#out + 1] = c:forward(x, t)
        c.sizeAverage = true                 -- a change again: nll's own false is overridden
        c.nll.sizeAverage = false
        out[#out + 1] = c:forward(x, t)
        out[#out + 1] = c.nll.sizeAverage
        return out
    end""")
    out = as_list(f(x, t, str(tmp_path / "ce.t7")))
    s = nll.sum()
    assert out[:3] == pytest.approx([s, s, s], rel=1e-12) and out[3] is False
    assert out[4] == pytest.approx(s, rel=1e-12) and out[5] is False
    assert out[6] == pytest.approx(s, rel=1e-12)
    assert out[7] == pytest.approx(nll.mean(), rel=1e-12) and out[8] is True


# ---------------------------------------------------------------- StochasticGradient

def sgd_ref(W, b, data, order, epochs, lr, decay):
    """torch/nn's StochasticGradient with nn.Linear and nn.MSECriterion, in NumPy: the mean
    error of each epoch and the final parameters."""
    W, b = W.copy(), b.copy()
    errors, rate = [], lr
    for epoch in range(1, epochs + 1):
        total = 0.0
        for i in order[epoch - 1]:
            x, t = data[i]
            y = W @ x + b
            total += ((y - t) ** 2).mean()
            gy = 2 * (y - t) / y.size
            W -= rate * np.outer(gy, x)
            b -= rate * gy
        errors.append(total / len(data))
        rate = lr / (1 + (epoch + 1) * decay)
    return errors, W, b


TRAIN = """function(data, lr, decay, epochs, shuffle, verbose)
    local said = {}
    local p = print
    print = function(...) said[#said + 1] = table.concat({...}, ' ') end
    local m = nn.Linear(3, 2)
    local W0, b0 = m.weight:clone(), m.bias:clone()
    local dataset = {}
    for i = 1, #data do dataset[i] = {data[i][1], data[i][2], i} end
    function dataset:size() return #data end
    local sgd = nn.StochasticGradient(m, nn.MSECriterion())
    sgd.learningRate, sgd.learningRateDecay, sgd.maxIteration = lr, decay, epochs
    sgd.shuffleIndices, sgd.verbose = shuffle, verbose
    local errors, seen = {}, {}
    sgd.hookIteration = function(self, epoch, err)
        assert(self == sgd and epoch == #errors + 1)
        errors[epoch] = err
    end
    sgd.hookExample = function(self, example) seen[#seen + 1] = example[3] end
    local ok, e = pcall(sgd.train, sgd, dataset)
    print = p
    if not ok then error(e, 0) end
    return errors, seen, W0, b0, m.weight, m.bias, said
end"""


@pytest.mark.parametrize("shuffle", [False, True])
def test_stochastic_gradient_matches_numpy_sgd(lua, shuffle):
    r = rng(22)
    A = r.standard_normal((2, 3))
    data = [(x, A @ x + 0.5) for x in r.standard_normal((6, 3))]
    lua.execute("torch.manualSeed(3)")
    errors, seen, W0, b0, W, b, said = lua.eval(TRAIN)(
        [[x, t] for x, t in data], 0.05, 0.1, 4, shuffle, True)
    errors, said = as_list(errors), as_list(said)
    seen = [int(i) - 1 for i in as_list(seen)]
    # one order drawn once, used by every epoch (and 1..n without shuffleIndices)
    assert len(seen) == 24
    order = [seen[k * 6:(k + 1) * 6] for k in range(4)]
    assert all(o == order[0] for o in order) and sorted(order[0]) == list(range(6))
    if not shuffle:
        assert order[0] == list(range(6))
    ref_errors, ref_W, ref_b = sgd_ref(W0, b0, data, order, 4, 0.05, 0.1)
    np.testing.assert_allclose(errors, ref_errors, rtol=1e-12)
    np.testing.assert_allclose(W, ref_W, rtol=1e-12)
    np.testing.assert_allclose(b, ref_b, rtol=1e-12)
    assert errors[-1] < errors[0]
    assert said[0] == "# StochasticGradient: training"
    assert [float(s.split("= ")[1]) for s in said[1:5]] == pytest.approx(ref_errors, rel=1e-12)
    assert said[5] == "# StochasticGradient: you have reached the maximum number of iterations"
    assert said[6].startswith("# training error = ") and len(said) == 7


def test_stochastic_gradient_quiet_and_bad_datasets(lua):
    r = rng(23)
    data = [[x, x[:2] * 2] for x in r.standard_normal((3, 3))]
    _, _, _, _, _, _, said = lua.eval(TRAIN)(data, 0.01, 0, 2, False, False)
    # verbose off: the start and end lines only, as Torch7
    assert as_list(said) == ["# StochasticGradient: training",
                             "# StochasticGradient: you have reached the maximum number of iterations",
                             as_list(said)[2]]
    for code, message in [
        ("nn.StochasticGradient(nn.Linear(3, 2), nn.MSECriterion()):train({})",
         "train(dataset): the dataset must have a method size() giving its number of examples (> 0)"),
        ("local d = {3}; function d:size() return 1 end; nn.StochasticGradient(nn.Linear(3, 2), nn.MSECriterion()):train(d)",
         "train(dataset): dataset[1] must be {input, target}, not the number 3"),
        ("nn.StochasticGradient(nn.MSECriterion(), nn.MSECriterion())", "expects an nn.Module to train, not a nn.MSECriterion"),
        ("nn.StochasticGradient(nn.Linear(3, 2))", "expects an nn.Criterion, not a nil"),
    ]:
        assert_error(lua, "print = function() end; " + code, "nn.StochasticGradient", message)


# ---------------------------------------------------------------- files in Torch7's layout

def t7_tensor(values, typename="torch.DoubleTensor"):
    values = np.asarray(values, int if "Long" in typename else float)
    storage = t7craft.Storage(typename.replace("Tensor", "Storage"), values.ravel().tolist())
    return t7craft.Tensor(typename, list(values.shape), storage=storage)


def t7_empty(typename="torch.DoubleTensor"):
    return t7craft.Tensor(typename, [], storage=None)


def t7_module(name):
    return t7craft.Obj(name, {"output": t7_empty(), "gradInput": t7_empty(), "train": True})


def torch7_files():
    """Criterions with the fields torch/nn's constructors (and a forward) leave in them,
    written by t7craft (not by this runtime), with a loss computed here for each."""
    r = rng(30)
    base = {"output": 0.0, "gradInput": t7_empty()}
    x4, t3 = np.log(r.uniform(0.1, 1, (2, 3, 2, 2))), r.integers(1, 4, (2, 2, 2))
    w = r.uniform(0.5, 2, 3)
    nll_ref = spatial_nll_ref(x4, t3, w, True)[0]
    xs = r.standard_normal(3)
    xm, tm = r.standard_normal((2, 4)), (r.random((2, 4)) > 0.5).astype(float)
    mlsm_ref = (tm * np.logaddexp(0, -xm) + (1 - tm) * np.logaddexp(0, xm)).mean()
    X, Y = r.uniform(0, 2, (4, 1)), r.uniform(0, 2, (4, 1))
    xa, xb = r.standard_normal((3, 2)), r.standard_normal((3, 2))
    return [
        (t7craft.Obj("nn.SpatialClassNLLCriterion", {**base, "sizeAverage": True, "weights": t7_tensor(w),
                                                      "output_tensor": t7_tensor([0.0]),
                                                      "total_weight_tensor": t7_tensor([1.0]),
                                                      "target": t7_tensor([0], "torch.LongTensor")}),
         x4, t3, nll_ref),
        (t7craft.Obj("nn.ClassSimplexCriterion", {**base, "sizeAverage": True, "nClasses": 3,
                                                   "simplex": t7_tensor(simplex_ref(3)),
                                                   "_target": t7_tensor(np.zeros(3))}),
         xs, 2, ((xs - simplex_ref(3)[1]) ** 2).mean()),
        (t7craft.Obj("nn.MultiLabelSoftMarginCriterion", {**base, "sizeAverage": True,
                                                           "sigmoid": t7_module("nn.Sigmoid")}),
         xm, tm, mlsm_ref),
        (t7craft.Obj("nn.DistanceRatioCriterion", {**base, "sizeAverage": True, "loss": t7_tensor(X[:, 0]),
                                                    "dX": t7_tensor(X), "dY": t7_tensor(Y),
                                                    "_expMinusX": t7_tensor(np.exp(-X))}),
         [X, Y], None, (X + np.logaddexp(-X, -Y)).sum() / 4),
        (t7craft.Obj("nn.ModuleCriterion", {"inputModule": t7_module("nn.Tanh"), "castTarget": True,
                                             "criterion": t7craft.Obj("nn.MSECriterion", {**base, "sizeAverage": True})}),
         xm, tm, ((np.tanh(xm) - tm) ** 2).mean()),
        (t7craft.Obj("nn.L1HingeEmbeddingCriterion", {"output": 0.0, "margin": 20.0,
                                                       "gradInput": {1: t7_empty(), 2: t7_empty()}}),
         [xa, xb], -1, 20 - np.abs(xa - xb).sum()),
        (t7craft.Obj("nn.MultiLabelMarginCriterion", {**base, "sizeAverage": True, "isTarget": t7_empty()}),
         xm, np.array([[2, 0, 0, 0], [4, 1, 0, 0]]), multilabel_margin_ref(xm, np.array([[2, 0, 0, 0], [4, 1, 0, 0]]), True)[0]),
    ]


def test_files_in_torch7_layout_load_and_run(lua, tmp_path):
    f = lua.eval("""function(path, x, t)
        local c = torch.load(path)
        local loss = c:forward(x, t)
        c:backward(x, t)
        return torch.type(c), loss
    end""")
    for k, (obj, x, t, ref) in enumerate(torch7_files()):
        path = tmp_path / f"c{k}.t7"
        path.write_bytes(t7craft.dumps(obj))
        name, loss = f(str(path), x, t)
        assert name == obj.typename
        assert loss == pytest.approx(ref, rel=1e-12), name


@pytest.mark.parametrize("build, expected", [
    ("local c = nn.SpatialClassNLLCriterion(torch.ones(3)); c.weights = torch.ones(3, 1); return c",
     "nn.SpatialClassNLLCriterion.weights: expected a tensor of 1 dimensions"),
    ("local c = nn.ClassSimplexCriterion(4); c.simplex = torch.zeros(4, 3); return c",
     "nn.ClassSimplexCriterion.simplex: expected a tensor of size 4x4"),
    ("local c = nn.ClassSimplexCriterion(4); c.nClasses = 0; return c",
     "nn.ClassSimplexCriterion.nClasses: expected an integer >= 1"),
    ("local c = nn.L1HingeEmbeddingCriterion(); c.margin = 'm'; return c",
     'nn.L1HingeEmbeddingCriterion.margin: expected a number, the file holds the string "m"'),
    ("local c = nn.WeightedMSECriterion(torch.ones(2)); c.weight = nil; return c",
     "nn.WeightedMSECriterion.weight: expected a tensor, the file holds nothing"),
    ("local c = nn.ModuleCriterion(nn.MSECriterion()); c.criterion = nn.Tanh(); return c",
     "nn.ModuleCriterion.criterion: expected an nn criterion, the file holds a nn.Tanh"),
    ("local c = nn.ModuleCriterion(nn.MSECriterion()); c.criterion = nn.MultiCriterion():add(c); return c",
     "nn.ModuleCriterion.criterion: expected a criterion that does not contain the nn.ModuleCriterion itself, "
     "the file holds one that contains it (a cycle)"),
    ("local c = nn.MultiLabelSoftMarginCriterion(); c.weights = torch.ones(2, 2); return c",
     "nn.MultiLabelSoftMarginCriterion.weights: expected a tensor of 1 dimensions"),
    ("local s = nn.StochasticGradient(nn.Linear(2, 2), nn.MSECriterion()); s.learningRate = 'fast'; return s",
     'nn.StochasticGradient.learningRate: expected a number, the file holds the string "fast"'),
])
def test_files_whose_fields_do_not_fit_are_refused(lua, tmp_path, build, expected):
    expect(load_error(lua, tmp_path, build), expected)


FUZZ_CASES = [
    ("nn.SpatialClassNLLCriterion(torch.rand(3) + 0.5)", "torch.randn(2, 3, 2, 2)", "torch.LongTensor(2, 2, 2):random(1, 3)"),
    ("nn.SpatialAutoCropMSECriterion()", "torch.randn(2, 3, 3)", "torch.randn(2, 5, 4)"),
    ("nn.ClassSimplexCriterion(4)", "torch.randn(3, 4)", "torch.LongTensor{1, 4, 2}"),
    ("nn.WeightedMSECriterion(torch.rand(4))", "torch.randn(3, 4)", "torch.randn(3, 4)"),
    ("nn.L1HingeEmbeddingCriterion(2)", "{torch.randn(4), torch.randn(4)}", "-1"),
    ("nn.MultiLabelMarginCriterion()", "torch.randn(2, 4)", "torch.LongTensor{{1, 3, 0, 0}, {2, 0, 0, 0}}"),
    ("nn.MultiLabelSoftMarginCriterion(torch.rand(4))", "torch.randn(2, 4)", "torch.rand(2, 4):gt(0.5):double()"),
    ("nn.L1Cost()", "torch.randn(5)", "nil"),
    ("nn.DistanceRatioCriterion()", "{torch.rand(4, 1), torch.rand(4, 1)}", "nil"),
    ("nn.ModuleCriterion(nn.MSECriterion(), nn.Tanh(), nn.Sigmoid())", "torch.randn(2, 3)", "torch.randn(2, 3)"),
]


def test_mutated_fields_are_refused_or_fail_naming_the_class(lua, tmp_path):
    """Every field of each new criterion (after a forward and backward) replaced by a wrong
    value, saved and loaded: refused at load (T7FormatError), or forward and backward run, or
    they fail with an error naming a class; never an internal Lua error ("attempt to ...")."""
    fuzz = lua.eval("""function(ctor, input, target, path)
        local make = loadstring('return ' .. ctor)
        local x, t = loadstring('return ' .. input)(), loadstring('return ' .. target)()
        local proto = make()
        proto:forward(x, t); proto:backward(x, t)
        local keys = {}
        for k in pairs(proto) do keys[#keys + 1] = k end
        table.sort(keys)
        local counts, bad = {refused = 0, ran = 0, failed = 0}, {}
        for _, k in ipairs(keys) do
            for _, how in ipairs({'nil', 'num', 'neg', 'frac', 'str', 'tbl', 'bool', 'tiny', 'self'}) do
                local c = make()
                c:forward(x, t); c:backward(x, t)
                local values = {num = 3, neg = -1, frac = 2.5, str = 'x', tbl = {}, bool = true,
                                tiny = torch.Tensor(1), self = c}
                c[k] = values[how]
                torch.save(path, c)
                local ok, back = pcall(torch.load, path)
                if not ok then
                    if require('sparktorch7.errors').kind(back) == 't7format' then
                        counts.refused = counts.refused + 1
                    else
                        bad[#bad + 1] = k .. '=' .. how .. ' at load: ' .. tostring(back):sub(1, 200)
                    end
                else
                    local ran, err = pcall(function() back:forward(x, t); back:backward(x, t) end)
                    if ran then
                        counts.ran = counts.ran + 1
                    else
                        local first = tostring(err):match('[^\\n]*')
                        counts.failed = counts.failed + 1
                        if not first:find('<') or first:find('attempt to') or first:find('bad argument')
                           or first:find('a nil value') or first:find('index is nil') then
                            bad[#bad + 1] = k .. '=' .. how .. ': ' .. first:sub(1, 200)
                        end
                    end
                end
            end
        end
        return counts, bad
    end""")
    path = str(tmp_path / "f.t7")
    refused = 0
    for ctor, x, t in FUZZ_CASES:
        counts, bad = fuzz(ctor, x, t, path)
        assert not as_list(bad), (ctor, as_list(bad))
        refused += counts["refused"]
    assert refused > 150


def test_stochastic_gradient_round_trip(lua, tmp_path):
    """A saved trainer loads back with its settings, module and criterion, and trains on as
    the original does."""
    r = rng(24)
    data = [[x, x[:2] - 1] for x in r.standard_normal((4, 3))]
    f = lua.eval("""function(data, path)
        print = function() end
        local dataset = {}
        for i = 1, #data do dataset[i] = data[i] end
        function dataset:size() return #data end
        local sgd = nn.StochasticGradient(nn.Linear(3, 2), nn.MSECriterion())
        sgd.learningRate, sgd.maxIteration, sgd.shuffleIndices = 0.2, 3, false
        torch.save(path, sgd)
        local back = torch.load(path)
        sgd:train(dataset)
        back:train(dataset)
        return torch.type(back), back.learningRate, back.maxIteration, back.shuffleIndices,
               (sgd.module.weight - back.module.weight):abs():max(), (back.module.weight - torch.load(path).module.weight):abs():max()
    end""")
    name, lr, epochs, shuffle, diff, moved = f(data, str(tmp_path / "sgd.t7"))
    assert (name, lr, epochs, shuffle) == ("nn.StochasticGradient", 0.2, 3, False)
    assert diff == 0 and moved > 1e-3
