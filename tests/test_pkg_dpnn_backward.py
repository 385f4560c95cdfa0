"""dpnn's gradients (Element-Research dpnn's semantics): the pass-through and masking modules,
the crops and glimpses against finite differences, REINFORCE's gradients against their formulas
in NumPy, and the reward criterions reaching the Reinforce layers."""
import numpy as np
import pytest

import sparktorch7 as st
from gradcheck import install


@pytest.fixture
def lua():
    state = st.LuaState()
    state.execute("require 'dpnn'; torch.manualSeed(3)")
    install(state)
    yield state
    state.close()


def test_clip_passes_the_gradient_straight_through(lua):
    lua.execute("m = nn.Clip(-0.5, 0.5); x = torch.randn(3, 4) * 2; m:forward(x); go = torch.randn(3, 4)")
    np.testing.assert_array_equal(lua.eval("m:backward(x, go)"), lua.eval("go"))


@pytest.mark.parametrize("module", ["nn.TotalDropout(0.5)", "nn.SpatialRegionDropout(0.4)"])
def test_dropouts_mask_the_gradient_with_the_noise(lua, module):
    lua.execute(f"m = {module}; x = torch.randn(2, 3, 5, 5); y = m:forward(x); go = torch.randn(2, 3, 5, 5)")
    g, go, x, y = lua.eval("m:backward(x, go)"), lua.eval("go"), lua.eval("x"), lua.eval("y")
    noise = lua.eval("m.noise")
    noise = noise if isinstance(noise, np.ndarray) else np.full(x.shape, noise)
    np.testing.assert_allclose(y, x * noise, rtol=1e-12)
    np.testing.assert_allclose(g, go * noise, rtol=1e-12)
    lua.execute("m:evaluate(); m:forward(x)")
    with pytest.raises(st.LuaError, match=r"backward is only defined in training"):
        lua.execute("m:backward(x, go)")


def test_argmax_has_a_zero_gradient_shaped_like_the_input(lua):
    lua.execute("m = nn.ArgMax(2); x = torch.randn(3, 4); y = m:forward(x); g = m:backward(x, y:double())")
    np.testing.assert_array_equal(lua.eval("g"), np.zeros((3, 4)))
    np.testing.assert_array_equal(lua.eval("y"), lua.eval("x").argmax(1) + 1)


def test_uniform_crop_gradient_lands_where_the_crop_was_taken(lua):
    lua.execute("""
      m = nn.SpatialUniformCrop(3, 2); x = torch.randn(2, 2, 6, 5); y = m:forward(x)
      go = torch.randn(2, 2, 3, 2); g = m:backward(x, go)""")
    coord, go, g = lua.eval("m.coord"), lua.eval("go"), lua.eval("g")
    expect = np.zeros((2, 2, 6, 5))
    for i in range(2):
        h, w = coord[i] - 1
        expect[i, :, h:h + 3, w:w + 2] = go[i]
        np.testing.assert_array_equal(lua.eval("y")[i], lua.eval("x")[i, :, h:h + 3, w:w + 2])
    np.testing.assert_array_equal(g, expect)
    # evaluation: the centre crop, checked by finite differences
    lua.execute("m:evaluate(); xe = torch.randn(2, 7, 6)")
    assert lua.eval("nn.Jacobian.testJacobian(m, xe)") < 1e-6


def test_scaled_uniform_crop_gradient_is_the_resamplers(lua):
    lua.execute("""
      require 'nnx'
      m = nn.SpatialUniformCrop(4, 4, {1, 1.5}); x = torch.randn(1, 2, 9, 9); y = m:forward(x)
      go = torch.randn(1, 2, 4, 4); g = m:backward(x, go)""")
    # the scaled crop's place: the gradient is zero outside it and sums (the resampler is
    # linear) to <go, d y / d x> for x itself: <g, x> == <go, y>
    g, x, y, go = lua.eval("g"), lua.eval("x"), lua.eval("y"), lua.eval("go")
    np.testing.assert_allclose((g * x).sum(), (go * y).sum(), rtol=1e-9)
    assert np.count_nonzero(g) > 0 and np.count_nonzero(g) < g.size


def test_feat_normalization_gradient(lua):
    lua.execute("m = nn.SpatialFeatNormalization(torch.Tensor({0.5, -1, 2}), torch.Tensor({2, 0.5, 4})); x = torch.randn(2, 3, 4, 4)")
    assert lua.eval("nn.Jacobian.testJacobian(m, x)") < 1e-6
    lua.execute("x1 = torch.randn(3, 4, 4)")
    assert lua.eval("nn.Jacobian.testJacobian(m, x1)") < 1e-6


@pytest.mark.parametrize("module", [
    "nn.SpatialGlimpse(4, 2, 2)",
    "nn.SpatialGlimpse(2, 3, 2, nn.SpatialMaxPooling(2, 2, 2, 2))",
])
def test_glimpse_gradient_by_finite_differences(lua, module):
    lua.execute(f"""
      m = {module}; x = torch.randn(2, 2, 9, 8); loc = torch.Tensor({{{{0.3, -0.6}}, {{-1, 0.9}}}})
      R = torch.randn(m:forward({{x, loc}}):size())
      g = m:backward({{x, loc}}, R)
      num = torch.Tensor(x:size())
      local fx, nx = x:view(-1), num:view(-1)
      for i = 1, fx:nElement() do
        local v = fx[i]
        fx[i] = v + 1e-6; local a = m:forward({{x, loc}}):clone():cmul(R):sum()
        fx[i] = v - 1e-6; local b = m:forward({{x, loc}}):clone():cmul(R):sum()
        fx[i] = v; nx[i] = (a - b) / 2e-6
      end""")
    np.testing.assert_allclose(lua.eval("g[1]"), lua.eval("num"), atol=1e-6)
    np.testing.assert_array_equal(lua.eval("g[2]"), np.zeros((2, 2)))


def _reinforce(lua, module, input_code, reward):
    lua.execute(f"""
      m = {module}; x = {input_code}; y = m:forward(x)
      m:reinforce(torch.Tensor({{{', '.join(map(str, reward))}}}))
      g = m:backward(x, nil)""")


def test_bernoulli_gradient(lua):
    _reinforce(lua, "nn.ReinforceBernoulli()", "torch.rand(3, 4) * 0.8 + 0.1", [1.0, -0.5, 2.0])
    x, y, g = lua.eval("x"), lua.eval("y"), lua.eval("g")
    assert set(np.unique(y)) <= {0.0, 1.0}
    r = np.array([1.0, -0.5, 2.0])[:, None]
    np.testing.assert_allclose(g, -(y - x) / (x * (1 - x)) * r, rtol=1e-10)


def test_categorical_gradient(lua):
    _reinforce(lua, "nn.ReinforceCategorical()", "nn.SoftMax():forward(torch.randn(3, 5))", [0.5, 1.0, -1.0])
    x, y, g = lua.eval("x"), lua.eval("y"), lua.eval("g")
    np.testing.assert_array_equal(y.sum(1), np.ones(3))
    r = np.array([0.5, 1.0, -1.0])[:, None]
    np.testing.assert_allclose(g, -y / (x + 1e-8) * r, rtol=1e-10)


def test_normal_gradient_fixed_and_learned_stdev(lua):
    _reinforce(lua, "nn.ReinforceNormal(0.3)", "torch.randn(2, 3)", [1.0, 2.0])
    x, y, g = lua.eval("x"), lua.eval("y"), lua.eval("g")
    r = np.array([1.0, 2.0])[:, None]
    np.testing.assert_allclose(g, -(y - x) / 0.09 * r, rtol=1e-10)
    _reinforce(lua, "nn.ReinforceNormal()", "{torch.randn(2, 3), torch.rand(2, 3) + 0.5}", [1.0, -1.0])
    mu, s = lua.eval("x[1]"), lua.eval("x[2]")
    y, gm, gs = lua.eval("y"), lua.eval("g[1]"), lua.eval("g[2]")
    r = np.array([1.0, -1.0])[:, None]
    np.testing.assert_allclose(gm, -(y - mu) / s ** 2 * r, rtol=1e-10)
    np.testing.assert_allclose(gs, -((y - mu) ** 2 - s ** 2) / (s ** 3 + 1e-8) * r, rtol=1e-9)


def test_gamma_draws_and_gradient(lua):
    # draws: the sample mean of Gamma(k, theta) is k * theta
    lua.execute("m = nn.ReinforceGamma(0.5); k = torch.Tensor(20000):fill(3); y = m:forward(k)")
    y = lua.eval("y")
    assert (y > 0).all()
    assert abs(y.mean() - 1.5) < 0.03 and abs(y.var() - 0.75) < 0.05
    lua.execute("torch.manualSeed(5); a = m:forward(k):clone(); torch.manualSeed(5); b = m:forward(k):clone()")
    np.testing.assert_array_equal(lua.eval("a"), lua.eval("b"))
    lua.execute("m2 = nn.ReinforceGamma(); kk = torch.Tensor({{0.5, 2}, {1, 7}}); th = torch.Tensor({{1, 2}, {0.5, 3}})")
    _reinforce(lua, "nn.ReinforceGamma()", "{kk, th}", [1.0, -2.0])
    from math import log
    digamma = {0.5: -1.9635100260214235, 2.0: 0.42278433509846713, 1.0: -0.5772156649015329, 7.0: 1.8727843350984671}
    k, th, y = lua.eval("kk"), lua.eval("th"), lua.eval("y")
    r = np.array([1.0, -2.0])[:, None]
    dk = np.vectorize(digamma.get)(k)
    np.testing.assert_allclose(lua.eval("g[1]"), -(np.log(y) - dk - np.log(th)) * r, rtol=1e-10)
    np.testing.assert_allclose(lua.eval("g[2]"), -(y / th ** 2 - k / th) * r, rtol=1e-10)
    lua.execute("m = nn.ReinforceGamma(0.5); m:evaluate()")
    np.testing.assert_allclose(lua.eval("m:forward(torch.Tensor({2, 4}))"), [1.0, 2.0])


def test_reinforce_without_reward_says_what_to_do(lua):
    lua.execute("m = nn.ReinforceBernoulli(); x = torch.rand(2, 3); m:forward(x)")
    with pytest.raises(st.LuaError, match=r"<nn.ReinforceBernoulli> no reward: a reward criterion"):
        lua.execute("m:backward(x, x)")


def test_vr_class_reward_reinforces_the_module_and_learns_the_baseline(lua):
    lua.execute("""
      sampler = nn.ReinforceNormal(0.1)
      net = nn.Sequential():add(sampler)
      c = nn.VRClassReward(net, 2)
      scores = torch.Tensor({{0.1, 0.9}, {0.8, 0.2}, {0.3, 0.7}})
      target = torch.Tensor({2, 2, 2})
      baseline = torch.Tensor({{0.5}, {0.25}, {1}})
      loss = c:forward({scores, baseline}, target)
      gi = c:backward({scores, baseline}, target)""")
    reward = np.array([2.0, 0.0, 2.0])
    assert lua.eval("loss") == pytest.approx(-reward.sum() / 3)
    np.testing.assert_allclose(lua.eval("sampler.reward"), (reward - [0.5, 0.25, 1]) / 3, rtol=1e-12)
    np.testing.assert_array_equal(lua.eval("gi[1]"), np.zeros((3, 2)))
    base = np.array([[0.5], [0.25], [1]])
    np.testing.assert_allclose(lua.eval("gi[2]"), 2 * (base - reward[:, None]) / 3, rtol=1e-12)


def test_binary_class_reward_backward(lua):
    lua.execute("""
      sampler = nn.ReinforceBernoulli(); c = nn.BinaryClassReward(sampler)
      p = torch.Tensor({0.9, 0.2, 0.6}); t = torch.Tensor({1, 1, 0}); b = torch.Tensor({0.5, 0.5, 0.5})
      c:forward({p, b}, t); gi = c:backward({p, b}, t)""")
    reward = np.array([1.0, 0.0, 0.0])
    np.testing.assert_allclose(lua.eval("sampler.reward"), (reward - 0.5) / 3, rtol=1e-12)
    np.testing.assert_allclose(lua.eval("gi[2]"), 2 * (0.5 - reward) / 3, rtol=1e-12)
    np.testing.assert_array_equal(lua.eval("gi[1]"), np.zeros(3))


# ---------------------------------------------------------------- nnx's gradients
@pytest.mark.parametrize("module,shape", [
    ("nn.SpatialReSampling{owidth = 7, oheight = 5}", (2, 4, 6)),
    ("nn.SpatialReSampling{rwidth = 0.5, rheight = 0.75}", (2, 3, 8, 8)),
    ("nn.SpatialDownSampling(2, 3)", (2, 7, 9)),
    ("nn.SpatialUpSampling(2, 3)", (2, 3, 4)),
    ("nn.SpatialReSamplingEx{owidth = 9, oheight = 6, mode = 'bilinear'}", (2, 4, 5)),
    ("nn.SpatialReSamplingEx{owidth = 10, oheight = 8, mode = 'simple'}", (2, 4, 5)),
    ("nn.SpatialReSamplingEx{owidth = 2, oheight = 3, mode = 'average'}", (2, 7, 5)),
    ("nn.SpatialReSamplingEx{owidth = 2, oheight = 3, mode = 'simple'}", (2, 7, 5)),
    ("nn.SpatialPadding(1, 2, -1, 3)", (2, 5, 6)),
    ("nn.SpatialNormalization(2, torch.ones(3, 3), 0.5)", (2, 6, 7)),
    ("nn.SpatialNormalization(1, {torch.ones(3), torch.ones(3)}, 0.1)", (1, 6, 5)),
])
def test_nnx_gradients_by_finite_differences(lua, module, shape):
    lua.execute(f"require 'nnx'; m = {module}; x = torch.randn({', '.join(map(str, shape))})")
    assert lua.eval("nn.Jacobian.testJacobian(m, x)") < 1e-6


@pytest.mark.parametrize("dtype", ["float", "double"])
def test_resampling_gradient_is_the_adjoint_in_both_types(lua, dtype):
    # <backward(go), x> == <go, forward(x)> for a linear map, float and double
    lua.execute(f"""require 'nnx'
      m = nn.SpatialReSampling{{owidth = 9, oheight = 4}}:{dtype}()
      x = torch.randn(3, 6, 5):{dtype}(); y = m:forward(x):clone()
      go = torch.randn(y:size()):{dtype}(); g = m:backward(x, go)""")
    tol = 1e-4 if dtype == "float" else 1e-12
    lhs = float((lua.eval("g").astype(np.float64) * lua.eval("x")).sum())
    rhs = float((lua.eval("go").astype(np.float64) * lua.eval("y")).sum())
    assert lhs == pytest.approx(rhs, rel=tol)
    assert lua.eval("torch.type(g)") == f"torch.{dtype.capitalize()}Tensor"


# ---------------------------------------------------------------- inn's gradients
def test_inn_const_affine_and_mean_subtraction_gradients(lua):
    lua.execute("""require 'inn'
      m = inn.ConstAffine(3); m.a:copy(torch.Tensor({2, -1, 0.5})); m.b:copy(torch.Tensor({1, 2, 3}))
      x4 = torch.randn(2, 3, 4, 4); x2 = torch.randn(5, 3)
      e4 = nn.Jacobian.testJacobian(m, x4); e2 = nn.Jacobian.testJacobian(m, x2)
      go = torch.randn(5, 3); g = m:backward(x2, go)
      s = inn.MeanSubtraction(torch.randn(3, 4, 4)); es = nn.Jacobian.testJacobian(s, x4)""")
    assert max(lua.eval("e4"), lua.eval("e2"), lua.eval("es")) < 1e-6
    np.testing.assert_allclose(lua.eval("g"), lua.eval("go") * [2, -1, 0.5], rtol=1e-12)


@pytest.mark.parametrize("v2", [True, False])
def test_inn_roi_pooling_gradient(lua, v2):
    # distinct values: the maximum of each bin is unique, so finite differences are exact
    lua.execute(f"""require 'inn'
      m = inn.ROIPooling(3, 2, 0.5); m.v2 = {str(v2).lower()}
      data = torch.randperm(2 * 3 * 10 * 12):double():view(2, 3, 10, 12):div(7)
      rois = torch.Tensor({{{{1, 1, 1, 20, 16}}, {{2, 5, 3, 24, 20}}, {{1, 9, 9, 16, 14}}}})
      y = m:forward({{data, rois}}):clone()
      go = torch.randn(y:size())
      g = m:backward({{data, rois}}, go)""")
    data, rois, go, g = lua.eval("data"), lua.eval("rois"), lua.eval("go"), lua.eval("g")
    # the gradient of <go, y>: each output's gradient at the pixel holding its value
    y = lua.eval("y")
    expect = np.zeros_like(data)
    for r in range(3):
        b = int(rois[r, 0]) - 1
        for c in range(3):
            for i in range(2):
                for j in range(3):
                    hits = np.argwhere(data[b, c] == y[r, c, i, j])
                    assert len(hits) == 1
                    expect[b, c, hits[0][0], hits[0][1]] += go[r, c, i, j]
    np.testing.assert_allclose(g[1], expect, rtol=1e-12)
    np.testing.assert_array_equal(g[2], np.zeros((3, 5)))
