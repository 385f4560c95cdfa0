"""Backward passes of the criterions (nn's and rnn's), the table modules, the containers and
nngraph's gModule: gradients against central finite differences (doubles), in batch and
single-sample mode, through nn.Jacobian where input and output are tensors and through
tests/gradcheck.py where they are tables; parameter gradients with accGradParameters'
scale; and a two-branch gModule trained with optim.sgd against the same steps in NumPy."""
import numpy as np
import pytest

import sparktorch7 as st
from gradcheck import install

TOL = 1e-7


def new_state():
    state = st.LuaState()
    install(state)
    state.execute("require 'nngraph'; require 'rnn'; require 'dpnn'; require 'optim'; torch.manualSeed(11)")
    return state


@pytest.fixture
def lua():
    state = new_state()
    yield state
    state.close()


@pytest.fixture(scope="module")
def shared():
    """One state for the many parametrized finite-difference checks: each builds its own
    modules and leaves nothing behind (a fresh state apiece would cost most of the file's time)."""
    state = new_state()
    yield state
    state.close()


def check(lua, what, src):
    """gradcheck.<what> on the values src (Lua) gives; asserts a small error on a gradient that is not 0."""
    lua.execute("torch.manualSeed(11)")    # the same random values whatever ran before
    err, scale = lua.eval(f"(function() return gradcheck.{what}({src}) end)()")
    assert err < TOL, f"{src}: gradient off by {err}"
    assert scale > 1e-3, f"{src}: the gradient is (nearly) 0, nothing was checked"


# ---------------------------------------------------------------- criterions
Y6 = "torch.Tensor{1, -1, 1, -1, -1, 1}"
CRITERIONS = [
    # (constructor, input, target), single sample first, then a batch
    ("nn.AbsCriterion()", "torch.randn(5)", "torch.randn(5)"),
    ("nn.AbsCriterion(false)", "torch.randn(3, 4)", "torch.randn(3, 4)"),
    ("nn.BCECriterion()", "torch.rand(5) * 0.8 + 0.1", "torch.rand(5):gt(0.5):double()"),
    ("nn.BCECriterion(torch.rand(4) + 0.5)", "torch.rand(3, 4) * 0.8 + 0.1", "torch.rand(3, 4):gt(0.5):double()"),
    ("nn.BCECriterion(torch.rand(4) + 0.5, false)", "torch.rand(4) * 0.8 + 0.1", "torch.rand(4)"),
    ("nn.ClassNLLCriterion()", "torch.randn(5)", "3"),
    ("nn.ClassNLLCriterion()", "torch.randn(4, 5)", "torch.LongTensor{1, 5, 2, 2}"),
    ("nn.ClassNLLCriterion(torch.rand(5) + 0.1)", "torch.randn(4, 5)", "torch.LongTensor{1, 5, 2, 2}"),
    ("nn.ClassNLLCriterion(torch.rand(5) + 0.1, false)", "torch.randn(5)", "torch.LongTensor{4}"),
    ("nn.ClassNLLCriterion(torch.rand(5) + 0.1, true, 5)", "torch.randn(4, 5)", "torch.IntTensor{1, 5, 2, 5}"),
    ("nn.CosineEmbeddingCriterion(0.1)", "{torch.randn(6, 3), torch.randn(6, 3)}", Y6),
    ("nn.CosineEmbeddingCriterion(-0.9)", "{torch.Tensor{1, 2, 0.5}, torch.Tensor{0.3, -1, 2}}", "-1"),
    ("nn.CosineEmbeddingCriterion()", "{torch.randn(3), torch.randn(3)}", "1"),
    ("nn.DistKLDivCriterion()", "torch.randn(5)", "torch.rand(5)"),
    ("nn.DistKLDivCriterion(false)", "torch.randn(3, 4)", "torch.rand(3, 4)"),
    ("nn.HingeEmbeddingCriterion(0.5)", "torch.randn(6)", Y6),
    ("nn.HingeEmbeddingCriterion(2)", "torch.randn(2, 3)", "torch.Tensor{{1, -1, -1}, {-1, 1, -1}}"),
    ("nn.MarginCriterion(0.7)", "torch.randn(6)", Y6),
    ("nn.MarginCriterion()", "torch.randn(2, 3)", "torch.Tensor{{1, -1, -1}, {-1, 1, -1}}"),
    ("nn.MarginRankingCriterion()", "{torch.Tensor{0.3}, torch.Tensor{0.5}}", "1"),
    ("nn.MarginRankingCriterion(0.3)", "{torch.randn(6), torch.randn(6)}", Y6),
    ("nn.MultiCriterion():add(nn.MSECriterion(), 0.5):add(nn.AbsCriterion(), 2)", "torch.randn(3, 4)",
     "torch.randn(3, 4)"),
    ("nn.MultiMarginCriterion()", "torch.randn(5)", "2"),
    ("nn.MultiMarginCriterion()", "torch.randn(4, 5)", "torch.LongTensor{1, 5, 2, 2}"),
    ("nn.MultiMarginCriterion(2, torch.rand(5) + 0.5, 0.5)", "torch.randn(4, 5)", "torch.LongTensor{1, 5, 2, 3}"),
    ("nn.ParallelCriterion():add(nn.MSECriterion(), 0.5):add(nn.ClassNLLCriterion(), 2)",
     "{torch.randn(3, 4), torch.randn(3, 5)}", "{torch.randn(3, 4), torch.LongTensor{1, 2, 3}}"),
    ("nn.ParallelCriterion(true):add(nn.MSECriterion(), 0.5):add(nn.AbsCriterion())",
     "{torch.randn(4), torch.randn(4)}", "torch.randn(4)"),
    ("nn.ParallelCriterion():add(nn.MSECriterion()):add(nn.ParallelCriterion():add(nn.AbsCriterion(), 3))",
     "{torch.randn(2), {torch.randn(3)}}", "{torch.randn(2), {torch.randn(3)}}"),
    ("nn.SmoothL1Criterion()", "torch.randn(6) * 2", "torch.randn(6)"),
    ("nn.SmoothL1Criterion(false)", "torch.randn(3, 4) * 2", "torch.randn(3, 4)"),
    ("nn.SoftMarginCriterion()", "torch.randn(6) * 3", Y6),
    ("nn.SoftMarginCriterion()", "torch.randn(2, 3)", "torch.Tensor{{1, -1, -1}, {-1, 1, -1}}"),
    ("nn.MSECriterion()", "torch.randn(3, 4)", "torch.randn(3, 4)"),
    ("nn.SequencerCriterion(nn.MSECriterion())", "{torch.randn(2, 3), torch.randn(2, 3)}",
     "{torch.randn(2, 3), torch.randn(2, 3)}"),
    ("nn.SequencerCriterion(nn.ClassNLLCriterion(), true)", "torch.randn(3, 2, 4)",
     "torch.LongTensor{{1, 2}, {3, 4}, {2, 2}}"),
    ("nn.RepeaterCriterion(nn.MSECriterion())", "{torch.randn(2, 3), torch.randn(2, 3)}", "torch.randn(2, 3)"),
    ("nn.RepeaterCriterion(nn.AbsCriterion())", "torch.randn(3, 4)", "torch.randn(4)"),
]


@pytest.mark.parametrize("ctor, x, t", CRITERIONS, ids=[f"{c[0][:40]}|{c[1][:20]}" for c in CRITERIONS])
def test_criterion_gradient_against_finite_differences(shared, ctor, x, t):
    check(shared, "criterion", f"{ctor}, {x}, {t}")


def test_crossentropy_gradient_needs_logsoftmax_backward(lua):
    # CrossEntropyCriterion goes back through its nn.LogSoftMax (gradsimple's branch writes
    # LogSoftMax's gradient): batch, single, weights, and sizeAverage set on the criterion
    check(lua, "criterion", "nn.CrossEntropyCriterion(), torch.randn(4, 5), torch.LongTensor{1, 5, 2, 2}")
    check(lua, "criterion", "nn.CrossEntropyCriterion(torch.rand(5) + 0.1), torch.randn(5), 4")
    check(lua, "criterion", "nn.CrossEntropyCriterion(), torch.randn(1, 5), torch.LongTensor{{3}}")
    r = lua.eval("""(function()
        local c = nn.CrossEntropyCriterion()
        c.sizeAverage = false
        local x, t = torch.randn(3, 4), torch.LongTensor{1, 2, 3}
        c:forward(x, t)
        local g = c:backward(x, t):clone()
        local p = torch.exp(x - torch.log(torch.exp(x):sum(2)):expandAs(x))
        for i = 1, 3 do p[i][t[i]] = p[i][t[i]] - 1 end
        return (g - p):abs():max(), c.nll.sizeAverage
    end)()""")
    assert r[0] < 1e-12 and r[1] is False


def test_criterion_gradients_against_numpy(lua):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((4, 5))
    t = np.array([1, 5, 2, 2])
    w = rng.random(5) + 0.1
    f = lua.eval("""function(x, t, w, p)
        local nll = nn.ClassNLLCriterion(w)
        local nllSum = nn.ClassNLLCriterion(w, false)
        local mm = nn.MultiMarginCriterion(p, w, 0.8)
        local xp = (x:clone():mul(0.3):sigmoid())
        local bce = nn.BCECriterion(w)
        local tb = torch.rand(4, 5)
        return nll:backward(x, t):clone(), nllSum:backward(x, t):clone(), mm:backward(x, t):clone(),
               bce:backward(xp, tb):clone(), xp, tb
    end""")
    g_nll, g_sum, g_mm, g_bce, xp, tb = f(x, t.astype(float), w, 2)
    onehot = np.zeros((4, 5))
    onehot[np.arange(4), t - 1] = 1
    np.testing.assert_allclose(g_nll, -onehot * w / w[t - 1].sum(), rtol=1e-12)
    np.testing.assert_allclose(g_sum, -onehot * w, rtol=1e-12)
    z = 0.8 - x[np.arange(4), t - 1][:, None] + x
    z[np.arange(4), t - 1] = 0
    h = np.where(z > 0, 2 * z, 0) * w[t - 1][:, None] / 20
    h[np.arange(4), t - 1] = -h.sum(1)
    np.testing.assert_allclose(g_mm, h, rtol=1e-12)
    eps = 1e-12
    np.testing.assert_allclose(g_bce, -(tb - xp) / ((1 - xp + eps) * (xp + eps)) * w / xp.size, rtol=1e-10)


def test_classnll_ignore_index_and_total_weight(lua):
    r = lua.eval("""(function()
        local c = nn.ClassNLLCriterion(nil, true, -1)
        local x = torch.randn(4, 3)
        local t = torch.LongTensor{2, -1, 3, 1}
        local loss, total = c:forward(x, t)
        local g = c:backward(x, t):clone()
        local loss2 = c:forward(x:index(1, torch.LongTensor{1, 3, 4}), torch.LongTensor{2, 3, 1})
        local g2 = c:backward(x:index(1, torch.LongTensor{1, 3, 4}), torch.LongTensor{2, 3, 1})
        local c0 = nn.ClassNLLCriterion(nil, true, -1)
        local l0 = c0:forward(torch.randn(3), -1)
        return loss - loss2, total, g[2]:abs():sum(), (g:index(1, torch.LongTensor{1, 3, 4}) - g2):abs():max(),
               l0, c0:backward(torch.randn(3), -1):abs():sum()
    end)()""")
    assert abs(r[0]) < 1e-12 and r[1] == 3 and r[2] == 0 and r[3] < 1e-12
    assert r[4] == 0 and r[5] == 0


def test_margin_ranking_default_margin_is_one(lua):
    # Torch7's default margin is 1: max(0, -y (x1 - x2) + 1)
    r = lua.eval("""(function()
        local c = nn.MarginRankingCriterion()
        local x = {torch.Tensor{0.25}, torch.Tensor{0}}
        return c:forward(x, 1), c.margin, c:backward(x, 1)[1][1], c:backward(x, 1)[2][1]
    end)()""")
    assert r == (0.75, 1, -1, 1)


def test_cosine_embedding_rows_past_the_margin_have_no_gradient(lua):
    r = lua.eval("""(function()
        local c = nn.CosineEmbeddingCriterion(0.5)
        local a = torch.Tensor{{1, 0}, {1, 0}}
        local b = torch.Tensor{{0, 1}, {1, 1}}      -- cos 0 and 0.707 for targets -1
        local g = c:backward({a, b}, torch.Tensor{-1, -1})
        return g[1][1]:abs():sum(), g[1][2]:abs():sum(), g[2][1]:abs():sum()
    end)()""")
    assert r[0] == 0 and r[1] > 0.1 and r[2] == 0


def test_mask_zero_criterion_gradient(lua):
    # the masked (all-zero) rows get a zero gradient; the others the decorated criterion's
    r = lua.eval("""(function()
        local x = torch.randn(4, 3); x[2]:zero()
        local t = torch.randn(4, 3)
        local c = nn.MaskZeroCriterion(nn.MSECriterion(), 1)
        c:forward(x, t)
        local g = c:backward(x, t):clone()
        local keep = torch.LongTensor{1, 3, 4}
        local plain = nn.MSECriterion()
        plain:forward(x:index(1, keep), t:index(1, keep))
        local ref = plain:backward(x:index(1, keep), t:index(1, keep))
        local zeros = nn.MaskZeroCriterion(nn.MSECriterion(), 1)
        local z = torch.zeros(2, 3)
        local l0 = zeros:forward(z, torch.randn(2, 3))
        local g0 = zeros:backward(z, torch.randn(2, 3))
        return g[2]:abs():sum(), (g:index(1, keep) - ref):abs():max(), ref:abs():max(), l0, g0:abs():sum(),
               g0:size(1)
    end)()""")
    assert r[0] == 0 and r[1] < 1e-15 and r[2] > 1e-3
    assert r[3] == 0 and r[4] == 0 and r[5] == 2


def test_criterion_backward_errors(lua):
    with pytest.raises(st.LuaError, match=r"<nn.ClassNLLCriterion> target 7 out of range \[1, 5\]"):
        lua.execute("nn.ClassNLLCriterion():backward(torch.randn(5), 7)")
    with pytest.raises(st.LuaError, match=r"<nn.AbsCriterion> input has 4 elements, target 3"):
        lua.execute("nn.AbsCriterion():backward(torch.randn(4), torch.randn(3))")
    with pytest.raises(st.LuaError, match=r"<nn.MultiMarginCriterion> 2 targets for 3 samples"):
        lua.execute("nn.MultiMarginCriterion():backward(torch.randn(3, 4), torch.LongTensor{1, 2})")
    with pytest.raises(st.LuaError, match=r"<nn.MaskZeroCriterion> updateGradInput needs a forward first"):
        lua.execute("nn.MaskZeroCriterion(nn.MSECriterion(), 1):backward(torch.randn(2, 3), torch.randn(2, 3))")


# ---------------------------------------------------------------- table modules
TABLE_MODULES = [
    ("nn.CAddTable()", "{torch.randn(3, 4), torch.randn(3, 4), torch.randn(3, 4)}"),
    ("nn.CAddTable()", "{torch.randn(4), torch.randn(4)}"),
    ("nn.CSubTable()", "{torch.randn(3, 4), torch.randn(3, 4)}"),
    ("nn.CSubTable()", "{torch.randn(4), torch.randn(4)}"),
    ("nn.CDivTable()", "{torch.randn(3, 4), torch.rand(3, 4) + 1}"),
    ("nn.CDivTable()", "{torch.randn(4), torch.rand(4) + 1}"),
    ("nn.CMulTable()", "{torch.randn(3, 4), torch.randn(3, 4), torch.randn(3, 4)}"),
    ("nn.CMulTable()", "{torch.randn(4), torch.randn(4)}"),
    ("nn.CMaxTable()", "{torch.randn(3, 4), torch.randn(3, 4), torch.randn(3, 4)}"),
    ("nn.CMaxTable()", "{torch.randn(5), torch.randn(5)}"),
    ("nn.CMinTable()", "{torch.randn(3, 4), torch.randn(3, 4), torch.randn(3, 4)}"),
    ("nn.CMinTable()", "{torch.randn(5), torch.randn(5)}"),
    ("nn.FlattenTable()", "{torch.randn(2), {torch.randn(3), {torch.randn(1, 2)}}, torch.randn(2)}"),
    ("nn.JoinTable(2)", "{torch.randn(3, 4), torch.randn(3, 2)}"),
    ("nn.JoinTable(1, 1)", "{torch.randn(3, 4), torch.randn(3, 2)}"),
    ("nn.JoinTable(1, 1)", "{torch.randn(4), torch.randn(2)}"),
    ("nn.JoinTable(-1)", "{torch.randn(2, 4), torch.randn(2, 2)}"),
    ("nn.MixtureTable()", "{torch.rand(3, 2), {torch.randn(3, 4), torch.randn(3, 4)}}"),
    ("nn.MixtureTable()", "{torch.rand(2), {torch.randn(4), torch.randn(4)}}"),
    ("nn.MixtureTable()", "{torch.rand(3, 2), torch.randn(3, 2, 4)}"),
    ("nn.MixtureTable()", "{torch.rand(3), torch.randn(3, 4)}"),
    ("nn.MixtureTable(3)", "{torch.rand(3, 2), torch.randn(3, 4, 2)}"),
    ("nn.NarrowTable(2, 2)", "{torch.randn(3), torch.randn(2), {torch.randn(4)}, torch.randn(1)}"),
    ("nn.NarrowTable(2, -1)", "{torch.randn(3), torch.randn(2), {torch.randn(4)}, torch.randn(1)}"),
    ("nn.SelectTable(2)", "{torch.randn(3), {torch.randn(2), torch.randn(1)}, torch.randn(1)}"),
    ("nn.SelectTable(-1)", "{torch.randn(2, 3), torch.randn(2)}"),
    ("nn.SplitTable(2)", "torch.randn(3, 4)"),
    ("nn.SplitTable(1, 1)", "torch.randn(3, 4)"),
    ("nn.SplitTable(-1)", "torch.randn(2, 3, 2)"),
    ("nn.ZipTable()", "{{torch.randn(2), torch.randn(3)}, {torch.randn(1), torch.randn(2)}}"),
    ("nn.ReverseTable()", "{torch.randn(2), torch.randn(3), torch.randn(1)}"),
    ("nngraph.JustElement()", "{torch.randn(3)}"),
    ("nngraph.JustTable()", "torch.randn(3)"),
]


@pytest.mark.parametrize("ctor, x", TABLE_MODULES, ids=[f"{c}|{x[:24]}" for c, x in TABLE_MODULES])
def test_table_module_gradient_against_finite_differences(shared, ctor, x):
    check(shared, "module", f"{ctor}, {x}")


def test_cmax_table_ties_go_to_the_first(lua):
    g = lua.eval("""(function()
        local m = nn.CMaxTable()
        local x = {torch.Tensor{1, 2}, torch.Tensor{1, 3}}
        m:forward(x)
        local g = m:backward(x, torch.Tensor{5, 7})
        return g[1]:clone(), g[2]:clone()
    end)()""")
    np.testing.assert_array_equal(g[0], [5, 0])
    np.testing.assert_array_equal(g[1], [0, 7])


def test_flatten_table_keeps_its_output_table_and_nests_the_gradient(lua):
    r = lua.eval("""(function()
        local m = nn.FlattenTable()
        local a, b, c = torch.randn(2), torch.randn(3), torch.randn(1)
        local x = {a, {b, {c}}}
        local o1 = m:forward(x)
        local o2 = m:forward(x)
        local g = m:backward(x, {a * 2, b * 2, c * 2})
        local o3 = m:forward({a, b})
        return o1 == o2, o3 ~= o1, #o3, torch.type(g[2][2]), (g[2][2][1] - c * 2):abs():max()
    end)()""")
    assert r == (True, True, 2, "table", 0)


def test_table_module_backward_errors(lua):
    with pytest.raises(st.LuaError, match=r"<nn.CAddTable> gradOutput has 3 elements, the output 4"):
        lua.execute("local m = nn.CAddTable(); local x = {torch.randn(4), torch.randn(4)}; m:forward(x); m:backward(x, torch.randn(3))")
    with pytest.raises(st.LuaError, match=r"<nn.SplitTable> gradOutput must be a table of 3 tensors"):
        lua.execute("local m = nn.SplitTable(1); local x = torch.randn(3, 2); m:forward(x); m:backward(x, {torch.randn(2)})")
    with pytest.raises(st.LuaError, match=r"<nn.JoinTable> gradOutput must have 6 elements along dimension 1"):
        lua.execute("local m = nn.JoinTable(1); local x = {torch.randn(4), torch.randn(2)}; m:forward(x); m:backward(x, torch.randn(5))")


# ---------------------------------------------------------------- containers
TENSOR_CONTAINERS = [
    ("nn.Concat(2):add(nn.Linear(4, 3)):add(nn.Sequential():add(nn.Linear(4, 2)):add(nn.Tanh()))", "5, 4"),
    ("nn.Concat(1):add(nn.Linear(4, 3)):add(nn.Linear(4, 2))", "4"),
    ("nn.DepthConcat(1):add(nn.SpatialConvolution(2, 3, 3, 3)):add(nn.SpatialConvolution(2, 2, 1, 1))", "2, 4, 4"),
    ("nn.DepthConcat(2):add(nn.SpatialConvolution(2, 3, 3, 3)):add(nn.SpatialConvolution(2, 2, 1, 1))",
     "2, 2, 4, 4"),
    ("nn.Parallel(1, 1):add(nn.Linear(4, 3)):add(nn.Linear(4, 2))", "2, 4"),
    ("nn.Parallel(2, 1):add(nn.Linear(3, 2)):add(nn.Tanh())", "3, 2"),
    ("nn.Bottle(nn.Linear(4, 3))", "2, 5, 4"),
    ("nn.Bottle(nn.Linear(4, 3))", "5, 4"),
    ("nn.Bottle(nn.SpatialConvolution(2, 3, 3, 3), 4)", "2, 3, 2, 4, 4"),
    ("nn.Decorator(nn.Linear(4, 3))", "5, 4"),
    ("nn.NaN(nn.Sequential():add(nn.Linear(4, 3)):add(nn.Sigmoid()))", "5, 4"),
    ("nn.DataParallelTable(1):add(nn.Linear(4, 3), {1, 2})", "5, 4"),
    ("nn.Sequential():add(nn.ConcatTable():add(nn.Linear(4, 3)):add(nn.Linear(4, 3))):add(nn.CMulTable())", "5, 4"),
    ("nn.Sequential():add(nn.SplitTable(1)):add(nn.ParallelTable():add(nn.Linear(4, 2)):add(nn.Tanh()))"
     ":add(nn.JoinTable(1))", "2, 4"),
]


@pytest.mark.parametrize("ctor, shape", TENSOR_CONTAINERS, ids=[c[:60] for c, _ in TENSOR_CONTAINERS])
def test_container_jacobian(shared, ctor, shape):
    shared.execute("torch.manualSeed(11)")
    errs = shared.eval(f"""(function()
        local m = {ctor}
        local x = torch.Tensor({shape})
        local p, g = m:getParameters()
        local e1 = nn.Jacobian.testJacobian(m, x)
        local e2 = nn.Jacobian.testJacobianParameters(m, x, p, g)
        local e3 = nn.Jacobian.testJacobianUpdateParameters(m, x, m:parameters()[1])
        m:zeroGradParameters()
        local out = m:forward(x)
        m:backward(x, out:clone():normal())
        return e1, e2, e3, g:abs():max()
    end)()""")
    assert max(errs[:3]) < 1e-6
    assert errs[3] > 1e-3


TABLE_CONTAINERS = [
    ("nn.ConcatTable():add(nn.Linear(4, 3)):add(nn.Tanh())", "torch.randn(5, 4)"),
    ("nn.ConcatTable():add(nn.Linear(4, 3)):add(nn.Linear(4, 2))", "torch.randn(4)"),
    ("nn.ConcatTable():add(nn.ParallelTable():add(nn.Linear(2, 2)):add(nn.Tanh())):add(nn.CAddTable())",
     "{torch.randn(3, 2), torch.randn(3, 2)}"),
    ("nn.ParallelTable():add(nn.Linear(4, 3)):add(nn.Tanh())", "{torch.randn(5, 4), torch.randn(2)}"),
    ("nn.MapTable(nn.Linear(4, 3))", "{torch.randn(5, 4), torch.randn(2, 4), torch.randn(4)}"),
    ("nn.MapTable(nn.Sequential():add(nn.Linear(2, 3)):add(nn.Tanh()))", "{torch.randn(2), torch.randn(2)}"),
]


@pytest.mark.parametrize("ctor, x", TABLE_CONTAINERS, ids=[c[:60] for c, _ in TABLE_CONTAINERS])
def test_table_container_gradients(shared, ctor, x):
    check(shared, "module", f"{ctor}, {x}")
    check(shared, "params", f"{ctor}, {x}")


@pytest.mark.parametrize("ctor, x", [
    ("nn.Concat(2):add(nn.Linear(4, 3)):add(nn.Linear(4, 2))", "torch.randn(5, 4)"),
    ("nn.ConcatTable():add(nn.Linear(4, 3)):add(nn.Linear(4, 2))", "torch.randn(5, 4)"),
    ("nn.ParallelTable():add(nn.Linear(4, 3)):add(nn.Linear(2, 2))", "{torch.randn(5, 4), torch.randn(5, 2)}"),
    ("nn.MapTable(nn.Linear(4, 3))", "{torch.randn(5, 4), torch.randn(2, 4)}"),
    ("nn.Bottle(nn.Linear(4, 3))", "torch.randn(2, 5, 4)"),
    ("nn.DepthConcat(2):add(nn.SpatialConvolution(2, 3, 3, 3)):add(nn.SpatialConvolution(2, 2, 1, 1))",
     "torch.randn(2, 2, 5, 5)"),
    ("nn.Parallel(1, 1):add(nn.Linear(4, 3)):add(nn.Linear(4, 2))", "torch.randn(2, 4)"),
    ("nn.Decorator(nn.Linear(4, 3))", "torch.randn(5, 4)"),
    ("nn.DataParallelTable(1):add(nn.Linear(4, 3), {1})", "torch.randn(5, 4)"),
])
def test_container_scale_backward_and_acc_update(shared, ctor, x):
    # accGradParameters(scale) accumulates scale times the gradient; backward(scale) is
    # updateGradInput + accGradParameters(scale) in one pass; accUpdateGradParameters(lr)
    # moves the parameters as updateParameters(lr) after a fresh gradient does
    shared.execute("torch.manualSeed(11)")
    r = shared.eval(f"""(function()
        local m = {ctor}
        local x = {x}
        local out = m:forward(x)
        local go = gradcheck.randomLike(out)
        local p, g = m:getParameters()
        g:zero()
        m:updateGradInput(x, go)
        m:accGradParameters(x, go)
        local g1 = g:clone()
        m:accGradParameters(x, go, 0.5)
        local g15 = g:clone()
        g:zero()
        local gi = gradcheck.clone(m:backward(x, go, 2))
        local g2 = g:clone()
        local m2 = m:clone()
        local p2 = m2:getParameters()
        m:accUpdateGradParameters(x, go, 0.1)
        m2:zeroGradParameters(); m2:forward(x); m2:backward(x, go); m2:updateParameters(0.1)
        local d = 0
        for i, t in ipairs(gradcheck.leaves(gi)) do
           d = math.max(d, (t - gradcheck.leaves(m2.gradInput)[i]):abs():max())
        end
        return (g15 - g1 * 1.5):abs():max(), (g2 - g1 * 2):abs():max(), (p - p2):abs():max(),
               g1:abs():max(), d
    end)()""")
    assert r[0] < 1e-12 and r[1] < 1e-12 and r[2] < 1e-12 and r[4] < 1e-12
    assert r[3] > 1e-3


def test_map_table_updates_shared_parameters_once(lua):
    r = lua.eval("""(function()
        local lin = nn.Linear(3, 2)
        local m = nn.MapTable(lin)
        local x = {torch.randn(3), torch.randn(3), torch.randn(3)}
        m:forward(x)
        m:zeroGradParameters()
        m:backward(x, {torch.randn(2), torch.randn(2), torch.randn(2)})
        local w, gw = lin.weight:clone(), lin.gradWeight:clone()
        m:updateParameters(0.1)
        return (lin.weight - (w - gw * 0.1)):abs():max(), #m.modules,
               m.modules[3].weight:storage() == lin.weight:storage()
    end)()""")
    assert r[0] < 1e-15 and r[1] == 3 and r[2] is True


def test_dont_cast_backward_casts_back(lua):
    # a FloatTensor module inside a double model: gradInput comes back as doubles, equal to
    # the float module's own gradient
    r = lua.eval("""(function()
        local inner = nn.Linear(4, 3):float()
        local m = nn.DontCast(inner, true)
        local x, go = torch.randn(5, 4), torch.randn(5, 3)
        m:forward(x)
        local g = m:backward(x, go)
        local ref = inner:clone():zeroGradParameters()
        local r2 = nn.Linear(4, 3):float()
        r2.weight:copy(inner.weight); r2.bias:copy(inner.bias)
        r2:forward(x:float())
        local gref = r2:backward(x:float(), go:float())
        return torch.type(g), (g:float() - gref):abs():max(), torch.type(inner.gradWeight),
               (inner.gradWeight - r2.gradWeight):abs():max(), r2.gradWeight:abs():max()
    end)()""")
    assert r[0] == "torch.DoubleTensor" and r[1] < 1e-6
    assert r[2] == "torch.FloatTensor" and r[3] < 1e-6 and r[4] > 1e-3


def test_nan_decorator_reports_nan_gradients(lua):
    lua.execute("""
        m = nn.NaN(nn.Linear(3, 2), 'layer')
        x = torch.randn(4, 3)
        m:forward(x)
        bad = torch.randn(4, 2); bad[2][1] = 0/0
    """)
    with pytest.raises(st.LuaError, match=r"<nn.NaN> NaN found in the gradOutput of module nn.Linear \(id layer\)"):
        lua.execute("m:updateGradInput(x, bad)")
    with pytest.raises(st.LuaError, match=r"<nn.NaN> NaN found in the gradParameters of module nn.Linear"):
        lua.execute("m:zeroGradParameters(); m:accGradParameters(x, bad)")


# a module class of the test's own that defines no gradient (every shipped one may)
NO_GRADIENT = """
    local NoGradient = torch.class('nn.NoGradient', 'nn.Module')
    function NoGradient:updateOutput(input) self.output = input:clone(); return self.output end
"""


def test_container_backward_errors(lua):
    # a container needs forward first, and a container class without gradients says so
    with pytest.raises(st.LuaError, match=r"<nn.Concat> backward needs a forward first \(module 1 has no output\)"):
        lua.execute("nn.Concat(1):add(nn.Linear(2, 2)):backward(torch.randn(2), torch.randn(2))")
    with pytest.raises(st.LuaError, match=r"<nn.ConcatTable> gradOutput must be a table of 2 elements"):
        lua.execute("local m = nn.ConcatTable():add(nn.Tanh()):add(nn.Tanh()); local x = torch.randn(2); "
                    "m:forward(x); m:backward(x, torch.randn(2))")
    lua.execute(NO_GRADIENT)
    with pytest.raises(st.LuaError, match=r"(?s)In 2 module of nn.Concat:\nIn 2 module of nn.Sequential:.*<nn.NoGradient> updateGradInput is not implemented"):
        lua.execute("local m = nn.Concat(1):add(nn.Tanh()):add(nn.Sequential():add(nn.Tanh()):add(nn.NoGradient())); "
                    "local x = torch.randn(2); m:forward(x); m:backward(x, torch.randn(4))")


# ---------------------------------------------------------------- nngraph
GRAPHS = {
    # input nodes are modules called with no inputs (nn.Tanh()()), so that the graphs
    # go back through their own modules
    "two_branch": """local x = nn.Tanh()()
        local a = nn.Tanh()(nn.Linear(4, 3)(x))
        local b = nn.Linear(4, 3)(x)
        return nn.gModule({x}, {nn.CAddTable()({a, b})}), torch.randn(5, 4)""",
    "two_outputs": """local x = nn.Tanh()()
        local a = nn.Linear(4, 3)(x)
        return nn.gModule({x}, {a, nn.Sigmoid()(a)}), torch.randn(5, 4)""",
    "two_inputs": """local x, y = nn.Tanh()(), nn.Sigmoid()()
        local a = nn.Linear(4, 3)(x)
        return nn.gModule({x, y}, {nn.CMulTable()({a, nn.Linear(2, 3)(y)}), y}), {torch.randn(5, 4), torch.randn(5, 2)}""",
    "split": """local x = nn.Tanh()()
        local p, q = nn.ConcatTable():add(nn.Linear(4, 3)):add(nn.Linear(4, 3))(x):split(2)
        return nn.gModule({x}, {nn.CSubTable()({nn.Tanh()(p), q})}), torch.randn(5, 4)""",
    "split_one": """local x = nn.Tanh()()
        local p = nn.ConcatTable():add(nn.Linear(4, 3))(x):split(1)
        return nn.gModule({x}, {nn.Tanh()(p)}), torch.randn(4)""",
    "table_input": """local x = nn.FlattenTable()()
        local y, z = nn.SelectTable(1)(x), nn.SelectTable(2)(x)
        return nn.gModule({x}, {nn.CAddTable()({nn.Linear(4, 3)(y), z})}), {torch.randn(5, 4), torch.randn(5, 3)}""",
    "nested_gmodule": """local i = nn.Sigmoid()()
        local inner = nn.gModule({i}, {nn.Tanh()(nn.Linear(4, 4)(i))})
        local x = nn.Tanh()()
        return nn.gModule({x}, {nn.CAddTable()({inner(x), x})}), torch.randn(5, 4)""",
    "used_three_times": """local x = nn.Tanh()()
        local h = nn.Linear(3, 3)(x)
        local s = nn.CAddTable()({h, nn.Tanh()(h), nn.Sigmoid()(h)})
        return nn.gModule({x}, {nn.CMulTable()({s, x})}), torch.randn(3)""",
}


@pytest.mark.parametrize("name", sorted(GRAPHS))
def test_gmodule_gradients(shared, name):
    src = f"(function() {GRAPHS[name]} end)()"
    check(shared, "module", src)
    check(shared, "params", src)


def test_gmodule_with_a_criterion_node(lua):
    # the loss node's gradient reaches the prediction (scaled by gradOutput); the target's is 0
    r = lua.eval("""(function()
        local x, t = nn.Tanh()(), nn.Sigmoid()()
        local lin = nn.Linear(4, 3)
        local l = nn.MSECriterion()({lin(x), t})
        local g = nn.gModule({x, t}, {l})
        local xv, tv = torch.randn(5, 4), torch.randn(5, 3)
        local loss = g:forward({xv, tv})[1]
        g:zeroGradParameters()
        local gi = g:backward({xv, tv}, torch.Tensor{2})
        local ref = nn.MSECriterion()
        local y = lin:forward(torch.tanh(xv))
        ref:forward(y, torch.sigmoid(tv))
        local dy = ref:backward(y, torch.sigmoid(tv)) * 2
        local dx = torch.cmul(dy * lin.weight, 1 - torch.cmul(torch.tanh(xv), torch.tanh(xv)))
        return loss, (gi[1] - dx):abs():max(), gi[2]:abs():max(), (lin.gradBias - dy:sum(1):view(3)):abs():max(),
               torch.type(g.modules[#g.modules])
    end)()""")
    assert r[0] > 0 and r[1] < 1e-12 and r[2] == 0 and r[3] < 1e-12
    assert r[4] == "nn.ModuleFromCriterion"


def test_module_from_criterion_names(lua):
    r = lua.eval("""(function()
        local m = nn.ModuleFromCriterion(nn.AbsCriterion())
        local old = nngraph.ModuleFromCriterion(nn.AbsCriterion())
        local x = {torch.Tensor{1, -2}, torch.Tensor{0, 0}}
        local g = m:backward(x, torch.Tensor{3})
        return torch.type(m), torch.isTypeOf(old, 'nn.ModuleFromCriterion'), g[1][1], g[1][2], g[2]:abs():sum()
    end)()""")
    assert r == ("nn.ModuleFromCriterion", True, 1.5, -1.5, 0)


def test_gmodule_backward_errors(lua):
    lua.execute("""
        local x = nn.Tanh()()
        local a = nn.Linear(4, 3)(x)
        g2 = nn.gModule({x}, {a, nn.Sigmoid()(a)})
        xv = torch.randn(5, 4)
        g2:forward(xv)
    """)
    with pytest.raises(st.LuaError, match=r"<nn.gModule> expecting a table of 2 gradOutputs, got torch.DoubleTensor"):
        lua.execute("g2:backward(xv, torch.randn(5, 3))")
    lua.execute(NO_GRADIENT)
    with pytest.raises(st.LuaError, match=r"<nn.NoGradient> updateGradInput is not implemented"):
        lua.execute("""
            local x = nn.Tanh()()
            local g = nn.gModule({x}, {nn.NoGradient()(x)})
            g:forward(torch.randn(3)); g:backward(torch.randn(3), torch.randn(3))
        """)


def test_gmodule_accumulates_scaled_gradients(lua):
    r = lua.eval("""(function()
        local x = nn.Tanh()()
        local h = nn.Linear(4, 3)(x)
        local g = nn.gModule({x}, {nn.CAddTable()({nn.Tanh()(h), h})})
        local xv, go = torch.randn(5, 4), torch.randn(5, 3)
        local p, gp = g:getParameters()
        g:forward(xv)
        gp:zero(); g:backward(xv, go)
        local g1 = gp:clone()
        g:accGradParameters(xv, go, 0.25)
        local g125 = gp:clone()
        local g2 = g:clone()
        local p2 = g2:getParameters()
        g:accUpdateGradParameters(xv, go, 0.1)
        g2:forward(xv); g2:zeroGradParameters(); g2:backward(xv, go); g2:updateParameters(0.1)
        return (g125 - g1 * 1.25):abs():max(), (p - p2):abs():max(), g1:abs():max()
    end)()""")
    assert r[0] < 1e-12 and r[1] < 1e-12 and r[2] > 1e-3


def test_two_branch_gmodule_trained_with_sgd_matches_numpy(lua):
    # z = L0 x feeds two branches, tanh(L1 z) and sigmoid(L2 z), summed and read out by L3;
    # MSE loss, SGD with momentum over getParameters' flat views
    rng = np.random.default_rng(4)
    x, t = rng.standard_normal((6, 3)), rng.standard_normal((6, 2))
    run = lua.eval("""function(x, t, steps)
        local L0, L1, L2, L3 = nn.Linear(3, 4), nn.Linear(4, 2), nn.Linear(4, 2), nn.Linear(2, 2)
        local inp = L0()
        local a = nn.Tanh()(L1(inp))
        local b = nn.Sigmoid()(L2(inp))
        local g = nn.gModule({inp}, {L3(nn.CAddTable()({a, b}))})
        local init = {}
        for i, m in ipairs({L0, L1, L2, L3}) do init[i] = {m.weight:clone(), m.bias:clone()} end
        local c = nn.MSECriterion()
        local p, gp = g:getParameters()
        local function feval(_)
           gp:zero()
           local y = g:forward(x)
           local loss = c:forward(y, t)
           g:backward(x, c:backward(y, t))
           return loss, gp
        end
        local cfg, losses = {learningRate = 0.3, momentum = 0.5}, {}
        for i = 1, steps do
           local _, fs = optim.sgd(feval, p, cfg)
           losses[i] = fs[1]
        end
        return init, torch.Tensor(losses), L0.weight:clone(), L3.bias:clone()
    end""")
    init, losses, w0_final, b3_final = run(x, t, 6)
    W = [[np.array(init[i][1]), np.array(init[i][2])] for i in range(1, 5)]
    vel, ref = None, []
    for _ in range(6):
        (W0, b0), (W1, b1), (W2, b2), (W3, b3) = W
        z = x @ W0.T + b0
        a = np.tanh(z @ W1.T + b1)
        s = 1 / (1 + np.exp(-(z @ W2.T + b2)))
        h = a + s
        y = h @ W3.T + b3
        ref.append(np.mean((y - t) ** 2))
        dy = 2 * (y - t) / y.size
        dW3, db3, dh = dy.T @ h, dy.sum(0), dy @ W3
        da, ds = dh * (1 - a ** 2), dh * s * (1 - s)
        dW1, db1, dW2, db2 = da.T @ z, da.sum(0), ds.T @ z, ds.sum(0)
        dz = da @ W1 + ds @ W2
        dW0, db0 = dz.T @ x, dz.sum(0)
        grads = [dW0, db0, dW1, db1, dW2, db2, dW3, db3]
        flat = [w for pair in W for w in pair]
        vel = [g.copy() for g in grads] if vel is None else [0.5 * v + 0.5 * g for v, g in zip(vel, grads)]
        flat = [w - 0.3 * v for w, v in zip(flat, vel)]
        W = [flat[0:2], flat[2:4], flat[4:6], flat[6:8]]
    np.testing.assert_allclose(losses, ref, rtol=1e-10)
    np.testing.assert_allclose(w0_final, W[0][0], rtol=1e-10)
    np.testing.assert_allclose(b3_final, W[3][1], rtol=1e-10)
    assert losses[-1] < losses[0]


def test_mixture_table_rows_must_match(lua):
    with pytest.raises(st.LuaError, match=r"<nn.MixtureTable> a gater of 3 rows for experts of 4 rows"):
        lua.execute("nn.MixtureTable():forward({torch.rand(3, 2), {torch.randn(4, 4), torch.randn(4, 4)}})")
    with pytest.raises(st.LuaError, match=r"<nn.CosineEmbeddingCriterion> target must be a number or a tensor of 2"):
        lua.execute("nn.CosineEmbeddingCriterion():forward({torch.randn(2, 3), torch.randn(2, 3)}, torch.Tensor{1})")
