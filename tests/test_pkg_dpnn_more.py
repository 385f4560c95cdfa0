"""dpnn's binary convolution, colour augmentations and binary logistic criteria
(`require 'dpnn'`) against NumPy references written from dpnn's sources, float and double,
batch and single input, with save/load round trips. The random draws are replayed from
MT19937 (numpy's legacy RandomState seeds it as Torch7's THRandom does)."""
import numpy as np
import pytest

import sparktorch7 as st
from pkg_helpers import DTYPES, TNAME, mt_normals, mt_uniforms, package_fixture, roundtrip, tol

lua = package_fixture("dpnn")


def correlate(x, w, pad):
    """Cross-correlation of (B, C, H, W) with (O, C, kH, kW), stride 1, zero padding."""
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    win = np.lib.stride_tricks.sliding_window_view(xp, w.shape[2:], axis=(2, 3))
    return np.einsum("bchwij,ocij->bohw", win, w)


@pytest.mark.parametrize("dtype", DTYPES)
def test_spatial_binary_convolution(lua, dtype):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 3, 6, 5))
    w = rng.standard_normal((4, 3, 3, 3))
    w[0, 0, 0, 0] = 0.0                               # sign(0) is +1 in dpnn
    lua.eval(f"function(w) m = nn.SpatialBinaryConvolution(3, 4, 3, 3, 1, 1, 1, 1):type('{TNAME[dtype]}'); "
             "m.weight:copy(w) end")(w)
    assert lua.eval("m.bias == nil")
    wd = w.astype(dtype).astype(np.float64)
    alphas = np.abs(wd).reshape(4, -1).sum(1) / 27
    ref = correlate(x.astype(dtype).astype(np.float64), np.where(wd >= 0, 1.0, -1.0), 1) * alphas[None, :, None, None]
    lua.execute("m:evaluate()")
    f = lua.eval("function(x) return m:forward(x):clone() end")
    np.testing.assert_allclose(f(x.astype(dtype)), ref, **tol(dtype))
    np.testing.assert_allclose(f(x[1].astype(dtype)), ref[1], **tol(dtype))
    # evaluation restores the real weights after the forward
    np.testing.assert_array_equal(lua.eval("m.weight"), w.astype(dtype))
    np.testing.assert_allclose(lua.eval("m.alphas"), alphas, **tol(dtype))
    np.testing.assert_allclose(lua.eval("m.gradInputAlphas"), np.abs(wd).transpose(1, 0, 2, 3).reshape(3, -1).sum(1) / 36,
                               **tol(dtype))
    roundtrip(lua, x, dtype)
    # training: the forward leaves sign(weight) in place until accGradParameters
    lua.execute("m:training()")
    np.testing.assert_allclose(f(x.astype(dtype)), ref, **tol(dtype))
    np.testing.assert_array_equal(lua.eval("m.weight"), np.where(wd >= 0, 1, -1).astype(dtype))
    g = rng.standard_normal(ref.shape)
    gin = lua.eval("function(x, g) m:zeroGradParameters(); local gi = m:backward(x, g):clone(); return gi end")(
        x.astype(dtype), g.astype(dtype))
    np.testing.assert_array_equal(lua.eval("m.weight"), w.astype(dtype))
    # gradInput: the full convolution of gradOutput with the binary filters, per input plane scaled
    wb = np.where(wd >= 0, 1.0, -1.0)
    gp = np.pad(g.astype(dtype).astype(np.float64), ((0, 0), (0, 0), (1, 1), (1, 1)))
    full = correlate(gp, wb[:, :, ::-1, ::-1].transpose(1, 0, 2, 3), 0)
    gia = np.abs(wd).transpose(1, 0, 2, 3).reshape(3, -1).sum(1) / 36
    np.testing.assert_allclose(gin, full * gia[None, :, None, None], **tol(dtype))


@pytest.mark.parametrize("dtype", DTYPES)
def test_simple_color_transform(lua, dtype):
    rng = np.random.default_rng(1)
    x = rng.random((2, 3, 4, 5))
    rangev = np.array([0.1, 0.2, 0.3])
    lua.eval(f"function(r) m = nn.SimpleColorTransform(3, r):type('{TNAME[dtype]}') end")(rangev)
    f = lua.eval("function(x, seed) torch.manualSeed(seed); return m:forward(x):clone() end")
    out = f(x.astype(dtype), 7)
    # dpnn draws channel by channel, the images of the batch in order within a channel
    u = mt_uniforms(7, 6).reshape(3, 2).T                  # (batch, channel)
    noise = u * (2 * rangev) - rangev
    ref = x.astype(dtype).astype(np.float64) + noise[:, :, None, None]
    np.testing.assert_allclose(out, ref, **tol(dtype))
    out1 = f(x[0].astype(dtype), 8)
    noise1 = mt_uniforms(8, 3) * (2 * rangev) - rangev
    np.testing.assert_allclose(out1, x[0].astype(dtype) + noise1[:, None, None], **tol(dtype))
    lua.execute("m:evaluate()")
    np.testing.assert_array_equal(f(x.astype(dtype), 7), x.astype(dtype))
    roundtrip(lua, x, dtype)
    with pytest.raises(st.LuaError, match=r"<nn.SimpleColorTransform> input has 2 channels, the module 3"):
        f(x[:, :2].astype(dtype), 1)
    with pytest.raises(st.LuaError, match=r"<nn.SimpleColorTransform> expects \(inputChannels, range\)"):
        lua.execute("nn.SimpleColorTransform(4, torch.Tensor{1, 2})")


@pytest.mark.parametrize("dtype", DTYPES)
def test_pca_color_transform(lua, dtype):
    rng = np.random.default_rng(2)
    x = rng.random((2, 3, 4, 4))
    vecs = np.linalg.qr(rng.standard_normal((3, 3)))[0]
    vals = np.array([0.5, 0.2, 0.05])
    lua.eval(f"function(v, l) m = nn.PCAColorTransform(3, v, l, 0.3):type('{TNAME[dtype]}') end")(vecs, vals)
    f = lua.eval("function(x, seed) torch.manualSeed(seed); return m:forward(x):clone() end")
    out = f(x.astype(dtype), 11)
    alphas = (mt_normals(11, 6) * 0.3).reshape(3, 2) * vals[:, None]      # channels x batch
    noise = (vecs @ alphas).T
    np.testing.assert_allclose(out, x.astype(dtype) + noise[:, :, None, None], **tol(dtype))
    out1 = f(x[1].astype(dtype), 12)
    noise1 = vecs @ (mt_normals(12, 3) * 0.3 * vals)
    np.testing.assert_allclose(out1, x[1].astype(dtype) + noise1[:, None, None], **tol(dtype))
    lua.execute("m:evaluate()")
    np.testing.assert_array_equal(f(x.astype(dtype), 11), x.astype(dtype))
    roundtrip(lua, x, dtype)
    with pytest.raises(st.LuaError, match=r"<nn.PCAColorTransform> expects \(inputChannels, eigenVectors"):
        lua.execute("nn.PCAColorTransform(3, torch.eye(2), torch.ones(3))")


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("size_average", [True, False])
def test_binary_logistic_regression(lua, dtype, size_average):
    rng = np.random.default_rng(3)
    x = rng.standard_normal((5, 1))
    y = np.where(rng.random((5, 1)) > 0.5, 1.0, -1.0)
    sa = "true" if size_average else "false"
    f = lua.eval(f"function(x, y) local c = nn.BinaryLogisticRegression({sa}); "
                 "return c:forward(x, y), c:backward(x, y):clone() end")
    for xs, ys in [(x, y), (x[:, 0], y[:, 0]), (x.T, y)]:
        loss, grad = f(xs.astype(dtype), ys.astype(dtype))
        xd, yd = xs.astype(dtype).astype(np.float64).ravel(), ys.ravel()
        e = np.exp(-yd * xd)
        div = xd.size if size_average else 1
        np.testing.assert_allclose(loss, np.log1p(e).sum() / div, **tol(dtype))
        np.testing.assert_allclose(grad.ravel(), -yd * e / (1 + e) / div, **tol(dtype))
        assert grad.shape == xs.shape
    with pytest.raises(st.LuaError, match=r"<nn.BinaryLogisticRegression> input must be N, 1 x N or N x 1, got 2D of size 2x3"):
        f(np.zeros((2, 3), dtype), np.zeros(6, dtype))
    with pytest.raises(st.LuaError, match=r"input has 5 elements, target 4"):
        f(x.astype(dtype), y[:4].astype(dtype))


@pytest.mark.parametrize("dtype", DTYPES)
def test_spatial_binary_logistic_regression(lua, dtype):
    rng = np.random.default_rng(4)
    x = rng.standard_normal((3, 1, 4, 5))
    y = np.where(rng.random(x.shape) > 0.5, 1.0, -1.0)
    f = lua.eval("function(x, y, sa) local c = nn.SpatialBinaryLogisticRegression(); c.sizeAverage = sa; "
                 "return c:forward(x, y), c:backward(x, y):clone() end")
    for xs, ys, b in [(x, y, 3), (x[0], y[0], 1)]:
        for sa in (True, False):
            loss, grad = f(xs.astype(dtype), ys.astype(dtype), sa)
            xd = xs.astype(dtype).astype(np.float64)
            e = np.exp(-ys * xd)
            div = 2 * 4 * 5 * (b if sa else 1)
            np.testing.assert_allclose(loss, np.log1p(e).sum() / div, **tol(dtype))
            np.testing.assert_allclose(grad, -ys * e / (1 + e) / div, **tol(dtype))
    with pytest.raises(st.LuaError, match=r"<nn.SpatialBinaryLogisticRegression> input must be 1 x H x W or B x 1 x H x W, got 3x2x4x5"):
        f(np.zeros((3, 2, 4, 5), dtype), np.zeros((3, 2, 4, 5), dtype), True)
    with pytest.raises(st.LuaError, match=r"target must have the size of input \(3x1x4x5\), got 3x1x4x4"):
        f(x.astype(dtype), y[..., :4].astype(dtype), True)


@pytest.mark.parametrize("dtype", DTYPES)
def test_nce_criterion(lua, dtype):
    rng = np.random.default_rng(5)
    B, K = 4, 3
    pmt, pms = rng.random(B) * 0.5, rng.random((B, K)) * 0.5
    pnt, pns = rng.random(B) * 0.1, rng.random((B, K)) * 0.1
    f = lua.eval("function(a, b, c, d, avg) local crit = nn.NCECriterion(); crit.sizeAverage = avg; "
                 "local l = crit:forward({a, b, c, d}, nil); local g = crit:backward({a, b, c, d}, nil); "
                 "return l, g[1], g[2], g[3], g[4] end")
    eps = 1e-7
    for avg in (True, False):
        args = [v.astype(dtype) for v in (pmt, pms, pnt, pns)]
        loss, g1, g2, g3, g4 = f(*args, avg)
        a, b, c, d = (v.astype(np.float64) for v in args)
        div = B if avg else 1
        ref = -(np.log(a / (a + K * c + eps)).sum() + np.log(K * d / (b + K * d + eps)).sum()) / div
        np.testing.assert_allclose(loss, ref, **tol(dtype))
        np.testing.assert_allclose(g1, -K * c / (a + K * c + eps) / (a + eps) / div, **tol(dtype))
        np.testing.assert_allclose(g2, b / (b + K * d + eps) / (b + eps) / div, **tol(dtype))
        np.testing.assert_array_equal(g3, 0)
        np.testing.assert_array_equal(g4, 0)
    with pytest.raises(st.LuaError, match=r"<nn.NCECriterion> expects \{Pmt \(batch\), Pms \(batch x k\), "
                                          r"Pnt \(batch\), Pns \(batch x k\)\}, got \{a 1D .* of size 4, "
                                          r"a 2D .* of size 4x3, a 1D .* of size 4, a nil\}"):
        f(pmt, pms, pnt, None, True)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("min_entropy", [None, 0.5, 5.0])
def test_categorical_entropy(lua, dtype, min_entropy):
    rng = np.random.default_rng(6)
    p = rng.random((5, 4))
    p /= p.sum(1, keepdims=True)
    g = rng.standard_normal((5, 4))
    ctor = "nn.CategoricalEntropy(0.7)" if min_entropy is None else f"nn.CategoricalEntropy(0.7, {min_entropy})"
    f = lua.eval(f"function(x, g) m = {ctor}:type('{TNAME[dtype]}'); local y = m:forward(x):clone(); "
                 "return y, m:backward(x, g):clone(), m.entropy end")
    y, gi, H = f(p.astype(dtype), g.astype(dtype))
    pd = p.astype(dtype).astype(np.float64)
    np.testing.assert_array_equal(y, p.astype(dtype))                  # the identity forward
    q = pd.sum(0) / pd.sum()                                           # the batch's distribution
    ref_h = -(q * np.log(q + 1e-6)).sum()
    np.testing.assert_allclose(H, ref_h, **tol(dtype))
    ref = g.astype(dtype).astype(np.float64)
    if min_entropy is None or ref_h < min_entropy:
        # d(-0.7 H)/dx[i, j] through q = colsum / (total, held constant), over the batch size
        dh_dq = -(np.log(q + 1e-6) + q / (q + 1e-6))
        ref = ref + (-0.7 * dh_dq / pd.sum())[None, :] / 5
    np.testing.assert_allclose(gi, ref, **tol(dtype))
    with pytest.raises(st.LuaError, match=r"<nn.CategoricalEntropy> only works with batches \(batch x categories\), got 1D"):
        f(p[0].astype(dtype), g[0].astype(dtype))


def test_reinforce_base(lua):
    """nn.Reinforce, the base of the REINFORCE samplers: the identity forward, and
    reinforce(reward) keeps the reward for the backward."""
    x = np.random.default_rng(7).standard_normal((3, 2))
    out = lua.eval("function(x) m = nn.Reinforce(); return m:forward(x) end")(x)
    np.testing.assert_array_equal(out, x)
    lua.eval("function(r) m:reinforce(r) end")(np.array([1.0, -2.0, 0.5]))
    np.testing.assert_array_equal(lua.eval("m.reward"), [1.0, -2.0, 0.5])
    assert lua.eval("torch.isTypeOf(nn.ReinforceNormal(0.1), 'nn.Reinforce')")


def renorm_rows(w, maxnorm):
    """torch's renorm(2, 1, maxnorm): rows above maxnorm scaled by maxnorm / (norm + 1e-7)."""
    n = np.linalg.norm(w.reshape(w.shape[0], -1), axis=1)
    scale = np.where(n > maxnorm, maxnorm / (n + 1e-7), 1.0)
    return w * scale.reshape((-1,) + (1,) * (w.ndim - 1))


def test_training_helpers(lua):
    """dpnn's maxParamNorm, gradParamClip, updateGradParameters and checkParameters on a
    container (recursing into its modules), against NumPy."""
    rng = np.random.default_rng(8)
    x, g = rng.standard_normal((5, 4)), rng.standard_normal((5, 3))
    lua.execute("torch.manualSeed(1); m = nn.Sequential():add(nn.Linear(4, 3)); lt = nn.LookupTable(6, 2)")
    lua.execute("m.modules[1].weight:mul(3); lt.weight:mul(3)")
    W0 = lua.eval("m.modules[1].weight:clone()")
    lua.execute("m:maxParamNorm(1.5)")
    np.testing.assert_allclose(lua.eval("m.modules[1].weight"), renorm_rows(W0, 1.5), rtol=1e-12)
    L0 = lua.eval("lt.weight:clone()")
    lua.execute("lt:maxParamNorm(1.2)")                      # a LookupTable renorms its columns
    np.testing.assert_allclose(lua.eval("lt.weight"), renorm_rows(L0.T, 1.2).T, rtol=1e-12)
    back = lua.eval("function(x, g) m:zeroGradParameters(); m:forward(x); m:backward(x, g); "
                    "return m.modules[1].gradWeight:clone(), m.modules[1].gradBias:clone() end")
    gw, gb = back(x, g)
    norm = lua.eval("function(c) return m:gradParamClip(c) end")(1.0)
    total = np.sqrt((gw ** 2).sum() + (gb ** 2).sum())
    np.testing.assert_allclose(norm, total, rtol=1e-12)
    np.testing.assert_allclose(lua.eval("m.modules[1].gradWeight"), gw * (1.0 / total), rtol=1e-12)
    # momentum: mom = f * mom + (1 - damp) * grad, the first mom the first gradient
    lua.execute("m.modules[1].momGradParams = nil")
    mom = None
    for step in range(3):
        gw, gb = back(x * (step + 1), g)
        lua.execute("m:updateGradParameters(0.9, 0.1)")
        if mom is None:
            mom = [gw.copy(), gb.copy()]
        mom = [0.9 * mom[0] + 0.9 * gw, 0.9 * mom[1] + 0.9 * gb]
        np.testing.assert_allclose(lua.eval("m.modules[1].gradWeight"), mom[0], rtol=1e-12)
        np.testing.assert_allclose(lua.eval("m.modules[1].gradBias"), mom[1], rtol=1e-12)
    lua.execute("m:checkParameters()")
    lua.execute("m.modules[1].weight[1][1] = 0/0")
    with pytest.raises(st.LuaError, match=r"<nn.Sequential:checkParameters> NaN Error for param at index 1"):
        lua.execute("m:checkParameters()")
