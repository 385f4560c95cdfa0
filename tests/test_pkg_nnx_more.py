"""nnx's spatial classifiers, colour transforms, max sampling, pyramids, pointwise and
table modules (`require 'nnx'`) against NumPy references written from nnx's sources, float
and double, batch and single input where nnx takes them, with save/load round trips."""
import colorsys
from fractions import Fraction

import numpy as np
import pytest

import sparktorch7 as st
from pkg_helpers import DTYPES, TNAME, mt_uniforms, package_fixture, roundtrip, tol

lua = package_fixture("nnx")


def fwd(lua, ctor, x, dtype):
    """m = ctor converted to dtype, forwarded on x."""
    f = lua.eval(f"function(x) m = {ctor}; m:type('{TNAME[dtype]}'); return m:forward(x) end")
    return f(x.astype(dtype) if isinstance(x, np.ndarray) else x)


@pytest.mark.parametrize("dtype", DTYPES)
def test_spatial_linear(lua, dtype):
    x = np.random.default_rng(0).standard_normal((2, 3, 4, 5))
    lua.execute("torch.manualSeed(3)")
    out = fwd(lua, "nn.SpatialLinear(3, 2)", x, dtype)
    # nnx's reset: row by row, the fanin weights of output o then its bias, U(-1/sqrt(fanout), .)
    u = mt_uniforms(3, 8)
    stdv = 1 / np.sqrt(2)
    drawn = (u * 2 * stdv - stdv).reshape(2, 4)
    W, b = drawn[:, :3], drawn[:, 3]
    np.testing.assert_allclose(lua.eval("m.weight"), W, **tol(dtype))
    np.testing.assert_allclose(lua.eval("m.bias"), b, **tol(dtype))
    Wd, bd = W.astype(dtype).astype(np.float64), b.astype(dtype).astype(np.float64)
    ref = np.einsum("oi,bihw->bohw", Wd, x.astype(dtype).astype(np.float64)) + bd[None, :, None, None]
    np.testing.assert_allclose(out, ref, **tol(dtype))
    single = lua.eval("function(x) return m:forward(x) end")(x[1].astype(dtype))
    np.testing.assert_allclose(single, ref[1], **tol(dtype))
    roundtrip(lua, x[0], dtype)
    with pytest.raises(st.LuaError, match=r"<nn.SpatialLinear> input has 4 planes, fanin is 3"):
        lua.eval("function(x) return m:forward(x) end")(np.zeros((4, 2, 2), dtype))


@pytest.mark.parametrize("dtype", DTYPES)
def test_spatial_classifier(lua, dtype):
    x = np.random.default_rng(1).standard_normal((3, 4, 5))
    out = fwd(lua, "nn.SpatialClassifier(nn.Sequential():add(nn.Linear(3, 6)):add(nn.LogSoftMax()))", x, dtype)
    W = lua.eval("m.classifier.modules[1].weight").astype(np.float64)
    b = lua.eval("m.classifier.modules[1].bias").astype(np.float64)
    z = np.einsum("ok,khw->ohw", W, x.astype(dtype).astype(np.float64)) + b[:, None, None]
    ref = z - np.log(np.exp(z).sum(0, keepdims=True))
    np.testing.assert_allclose(out, ref, **tol(dtype))
    roundtrip(lua, x, dtype)
    lua.execute("m.spatialOutput = false")
    flat = lua.eval("function(x) return m:forward(x) end")(x.astype(dtype))
    np.testing.assert_allclose(flat, ref.reshape(6, 20).T, **tol(dtype))
    with pytest.raises(st.LuaError, match=r"<nn.SpatialClassifier> input should be 3D: K x H x W, got 4D"):
        lua.eval("function(x) return m:forward(x) end")(x[None].astype(dtype))


@pytest.mark.parametrize("dtype", DTYPES)
def test_spatial_color_transform(lua, dtype):
    rgb = np.random.default_rng(2).random((3, 4, 5))
    xd = rgb.astype(dtype).astype(np.float64)
    yuv = np.array([[0.299, 0.587, 0.114], [-0.14713, -0.28886, 0.436], [0.615, -0.51499, -0.10001]])
    np.testing.assert_allclose(fwd(lua, "nn.SpatialColorTransform('rgb2yuv')", rgb, dtype),
                               np.einsum("oi,ihw->ohw", yuv, xd), **tol(dtype))
    roundtrip(lua, rgb, dtype)
    back = np.array([[1, 0, 1.13983], [1, -0.39465, -0.58060], [1, 2.03211, 0]])
    np.testing.assert_allclose(fwd(lua, "nn.SpatialColorTransform('yuv2rgb')", rgb, dtype),
                               np.einsum("oi,ihw->ohw", back, xd), **tol(dtype))
    y = np.einsum("i,ihw->hw", yuv[0], xd)
    np.testing.assert_allclose(fwd(lua, "nn.SpatialColorTransform('rgb2y')", rgb, dtype), y[None], **tol(dtype))
    nrgb = xd / (xd.sum(0) + 1e-6)
    np.testing.assert_allclose(fwd(lua, "nn.SpatialColorTransform('rgb2nrgb')", rgb, dtype), nrgb, **tol(dtype))
    both = fwd(lua, "nn.SpatialColorTransform('rgb2y+nrgb')", rgb, dtype)
    np.testing.assert_allclose(both, np.concatenate([y[None], nrgb]), **tol(dtype))
    hsv = np.array([[colorsys.rgb_to_hsv(*xd[:, i, j]) for j in range(5)] for i in range(4)]).transpose(2, 0, 1)
    np.testing.assert_allclose(fwd(lua, "nn.SpatialColorTransform('rgb2hsv')", rgb, dtype), hsv, **tol(dtype))
    with pytest.raises(st.LuaError, match=r"<nn.SpatialColorTransform> transform must be one of yuv2rgb \| rgb2yuv"):
        lua.execute("nn.SpatialColorTransform('rgb2xyz')")
    with pytest.raises(st.LuaError, match=r"input must be a 3 x H x W image, got 2x4x5"):
        fwd(lua, "nn.SpatialColorTransform('rgb2yuv')", rgb[:2], dtype)


def max_sampling_ref(x, oH, oW):
    """Windows from exact rationals: rows floor(i H / oH) .. max(+1, floor((i + 1) H / oH))."""
    C, H, W = x.shape
    out = np.zeros((C, oH, oW))
    idx = np.zeros((2, C, oH, oW))
    for i in range(oH):
        ys = int(Fraction(i * H, oH))
        ye = max(ys + 1, int(Fraction((i + 1) * H, oH)))
        for j in range(oW):
            xs = int(Fraction(j * W, oW))
            xe = max(xs + 1, int(Fraction((j + 1) * W, oW)))
            for c in range(C):
                win = x[c, ys:ye, xs:xe]
                out[c, i, j] = win.max()
                r, q = np.unravel_index(np.argmax(win), win.shape)
                idx[:, c, i, j] = r + 1, q + 1
    return out, idx


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("osize", [(3, 4), (9, 11)])      # down (windows of 2-3) and up (windows of 1)
def test_spatial_max_sampling(lua, dtype, osize):
    x = np.random.default_rng(3).standard_normal((2, 7, 10))
    oH, oW = osize
    out = fwd(lua, f"nn.SpatialMaxSampling({oW}, {oH})", x, dtype)
    ref, idx = max_sampling_ref(x.astype(dtype), oH, oW)
    np.testing.assert_array_equal(out, ref.astype(dtype))
    np.testing.assert_array_equal(lua.eval("m.indices"), idx)
    named = fwd(lua, f"nn.SpatialMaxSampling{{owidth = {oW}, oheight = {oH}}}", x, dtype)
    np.testing.assert_array_equal(named, out)
    roundtrip(lua, x, dtype)
    with pytest.raises(st.LuaError, match=r"<nn.SpatialMaxSampling> input must be 3D \(C x H x W\), got 4D"):
        fwd(lua, "nn.SpatialMaxSampling(2, 2)", x[None], dtype)


def conv_valid(x, w, b):
    win = np.lib.stride_tricks.sliding_window_view(x, w.shape[2:], axis=(1, 2))
    return np.einsum("chwij,ocij->ohw", win, w) + b[:, None, None]


@pytest.mark.parametrize("dtype", DTYPES)
def test_spatial_pyramid_unfocused(lua, dtype):
    x = np.random.default_rng(4).standard_normal((3, 8, 12))
    lua.execute("torch.manualSeed(0)")
    out = fwd(lua, "nn.SpatialPyramid({1, 2}, {nn.SpatialConvolution(3, 2, 3, 3), nn.SpatialConvolution(3, 2, 3, 3)}, "
                   "3, 3, 1, 1)", x, dtype)
    assert sorted(out) == [1, 2]
    xd = x.astype(dtype).astype(np.float64)
    for i, r in enumerate([1, 2]):
        w = lua.eval(f"m.processors[{i + 1}].weight").astype(np.float64)
        b = lua.eval(f"m.processors[{i + 1}].bias").astype(np.float64)
        down = xd.reshape(3, 8 // r, r, 12 // r, r).mean(axis=(2, 4))
        padded = np.pad(down, ((0, 0), (1, 1), (1, 1)))             # (k - d) / 2 on each side
        y = conv_valid(padded, w, b)
        up = y.repeat(r, axis=1).repeat(r, axis=2)
        np.testing.assert_allclose(out[i + 1], up, **tol(dtype))
    with pytest.raises(st.LuaError, match=r"<nn.SpatialPyramid> input sizes must be multiples of the ratios: 7x12 and ratio 2"):
        lua.eval("function(x) return m:forward(x) end")(x[:, :7].astype(dtype))


@pytest.mark.parametrize("dtype", DTYPES)
def test_minus_saturated_lu_multisoftmax(lua, dtype):
    rng = np.random.default_rng(5)
    x = rng.standard_normal((2, 3, 4)) * 2
    xd = x.astype(dtype)
    np.testing.assert_array_equal(fwd(lua, "nn.Minus()", x, dtype), -xd)
    g = rng.standard_normal(x.shape).astype(dtype)
    np.testing.assert_array_equal(lua.eval("function(x, g) return m:backward(x, g) end")(xd, g), -g)
    out = fwd(lua, "nn.SaturatedLU()", x, dtype)
    np.testing.assert_array_equal(out, np.clip(xd, -1, 1))
    # nnx tests the upper bound on the first step's result: a low value above th2 is raised again
    out = fwd(lua, "nn.SaturatedLU(-0.5, 2, 1, 3)", x, dtype)
    step = np.where(xd < -0.5, 2, xd)
    np.testing.assert_array_equal(out, np.where(step > 1, 3, step).astype(dtype))
    gi = lua.eval("function(x, g) return m:backward(x, g) end")(xd, g)
    np.testing.assert_array_equal(gi, np.where((xd < -0.5) | (xd > 1), 0, g))
    roundtrip(lua, x, dtype)
    for xs in (x, x[0]):
        out = fwd(lua, "nn.MultiSoftMax()", xs, dtype)
        e = np.exp(xs.astype(dtype).astype(np.float64))
        sm = e / e.sum(-1, keepdims=True)
        np.testing.assert_allclose(out, sm, **tol(dtype))
        gs = g[: xs.shape[0]] if xs.ndim == 3 else g[0]
        gi = lua.eval("function(x, g) return m:backward(x, g) end")(xs.astype(dtype), gs)
        ref = sm * (gs - (gs * sm).sum(-1, keepdims=True))
        np.testing.assert_allclose(gi, ref, **tol(dtype))
    with pytest.raises(st.LuaError, match=r"<nn.MultiSoftMax> input must be 2D or 3D, got 1D"):
        fwd(lua, "nn.MultiSoftMax()", x[0, 0], dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_balance(lua, dtype):
    rng = np.random.default_rng(6)
    batches = [rng.random((4, 3)) for _ in range(3)]
    lua.execute(f"m = nn.Balance(2):type('{TNAME[dtype]}')")
    f = lua.eval("function(x) return m:forward(x):clone() end")
    cache = np.zeros((8, 3))
    start = 0
    for x in batches:
        xd = x.astype(dtype).astype(np.float64)
        cache[start:start + 4] = xd
        start = (start + 4) % 8
        prob = cache.sum(0) / cache.sum()
        y = xd / prob
        np.testing.assert_allclose(f(x.astype(dtype)), y / y.sum(1, keepdims=True), **tol(dtype))
    lua.execute("m:evaluate()")
    np.testing.assert_array_equal(f(batches[0].astype(dtype)), batches[0].astype(dtype))
    roundtrip(lua, batches[1], dtype)
    with pytest.raises(st.LuaError, match=r"<nn.Balance> only works with 2D inputs \(batch x categories\), got 3D"):
        f(np.zeros((1, 2, 3), dtype))


def test_tic_toc_probe_print(lua, capfd):
    x = np.arange(6.0).reshape(2, 3)
    out = lua.eval("function(x) m = nn.Sequential():add(nn.Tic('t')):add(nn.Probe('p')):add(nn.Toc('t', 'c')); "
                   "return m:forward(x) end")(x)
    np.testing.assert_array_equal(out, x)
    printed = capfd.readouterr().out
    assert "<p>.output" in printed and "+ size = 2x3" in printed
    assert f"+ mean = {x.mean():g}" in printed and f"+ max = {x.max():g}" in printed
    assert f"+ std = {x.std(ddof=1):.6f}"[:14] in printed
    toc = [line for line in printed.splitlines() if line.startswith("Toc 't' (c) : ")]
    assert len(toc) == 1 and 0 <= float(toc[0].rsplit(":", 1)[1]) < 5
    with pytest.raises(st.LuaError, match=r"<nn.Toc> no nn.Tic\('u'\) has run before this Toc"):
        lua.eval("function(x) return nn.Toc('u'):forward(x) end")(x)


def test_function_wrapper(lua):
    x = np.arange(4.0)
    f = lua.eval("function(x) m = nn.FunctionWrapper(function(self) self.k = 3 end, "
                 "function(self, input) return input * self.k end, "
                 "function(self, input, g) return g * self.k end); return m:forward(x), m:backward(x, x) end")
    out, gi = f(x)
    np.testing.assert_array_equal(out, 3 * x)
    np.testing.assert_array_equal(gi, 3 * x)
    with pytest.raises(st.LuaError, match=r"<nn.FunctionWrapper> expects \(init, updateOutput"):
        lua.execute("nn.FunctionWrapper(1)")


def test_push_pull_table(lua):
    a, b, c = np.ones(2), np.full(2, 2.0), np.full(2, 3.0)
    lua.execute("p = nn.PushTable(2); q = p:pull(1); "
                "m = nn.Sequential():add(p):add(nn.CAddTable()):add(q)")
    out = lua.eval("function(a, b, c) return m:forward({a, b, c}) end")(a, b, c)
    np.testing.assert_array_equal(out[1], b)                 # pushed element, pulled at index 1
    np.testing.assert_array_equal(out[2], a + c)
    ga, gb = np.full(2, 5.0), np.full(2, 7.0)
    gi = lua.eval("function(a, b, c, ga, gb) return m:backward({a, b, c}, {ga, gb}) end")(a, b, c, ga, gb)
    np.testing.assert_array_equal(gi[1], gb)
    np.testing.assert_array_equal(gi[2], ga)
    np.testing.assert_array_equal(gi[3], gb)
    # a table input to the pull: the pushed element is inserted at the pull's index
    lua.execute("p2 = nn.PushTable(1); q2 = p2:pull(2); m2 = nn.Sequential():add(p2):add(q2)")
    out = lua.eval("function(a, b, c) return m2:forward({a, b, c}) end")(a, b, c)
    assert [float(out[i][0]) for i in (1, 2, 3)] == [2.0, 1.0, 3.0]
    with pytest.raises(st.LuaError, match=r"<nn.PullTable> its nn.PushTable has not run a forward yet"):
        lua.eval("function(a) return nn.PushTable(1):pull(1):forward(a) end")(a)


# ------------------------------------------------------------------ SoftMaxTree
HIERARCHY = "{[1] = torch.IntTensor{2, 3, 4}, [2] = torch.IntTensor{5, 6}, [3] = torch.IntTensor{7, 8, 9}}"
PARENTS = {1: [2, 3, 4], 2: [5, 6], 3: [7, 8, 9]}


def th_exp_minus(x):
    """THExpMinusApprox (TH/THLogAdd.c): 1 / (1 + x/8 + x^2/128 + x^3/3072 + x^4/98304)^8 below 13."""
    c = [1.0, 0.125, 0.0078125, 0.00032552083, 1.0172526e-5]
    y = sum(ck * x ** k for k, ck in enumerate(c))
    return np.where(x < 13.0, y ** -8.0, 0.0)


def tree_ref(x, targets, W, b, approx=True):
    """log P(target) = sum over the path to the root of log-softmax over the siblings."""
    rows = {}
    r = 0
    for p in sorted(PARENTS):
        for k, c in enumerate(PARENTS[p]):
            rows[c] = (p, r, k)
        r += len(PARENTS[p])
    out = []
    for xi, t in zip(x, targets):
        total, node = 0.0, t
        while node != 1:
            p, _, k = rows[node]
            first = rows[PARENTS[p][0]][1]
            z = W[first:first + len(PARENTS[p])] @ xi + b[first:first + len(PARENTS[p])]
            e = th_exp_minus(z.max() - z) if approx else np.exp(z - z.max())
            total += z[k] - (z.max() + np.log(e.sum()))
            node = p
        out.append(total)
    return np.array(out)


@pytest.mark.parametrize("dtype", DTYPES)
def test_soft_max_tree(lua, dtype):
    rng = np.random.default_rng(7)
    x = rng.standard_normal((6, 5))
    targets = np.array([4, 5, 6, 7, 8, 9])
    lua.execute(f"torch.manualSeed(1); m = nn.SoftMaxTree(5, {HIERARCHY}):type('{TNAME[dtype]}')")
    assert lua.eval("m.nChildNode") == 8 and lua.eval("m.maxDept") == 2 and lua.eval("m.maxFamilyPath") == 6
    assert lua.eval("torch.type(m.parentChildren)") == "torch.IntTensor"
    f = lua.eval("function(x, t) return m:forward({x, t}):clone() end")
    out = f(x.astype(dtype), targets.astype(np.int32))
    W, b = lua.eval("m.weight").astype(np.float64), lua.eval("m.bias").astype(np.float64)
    ref = tree_ref(x.astype(dtype).astype(np.float64), targets, W, b)
    np.testing.assert_allclose(out, ref, **tol(dtype))
    # the approximate exp stays close to the exact log-likelihood, which sums to 1 over the leaves
    np.testing.assert_allclose(ref, tree_ref(x, targets, W, b, approx=False), atol=1e-4)
    leaves = [4, 5, 6, 7, 8, 9]
    probs = np.exp([tree_ref(x[:1].astype(dtype).astype(np.float64), [t], W, b, approx=False)[0] for t in leaves])
    np.testing.assert_allclose(probs.sum(), 1.0, rtol=1e-9)
    lua.execute("local f = torch.MemoryFile(); f:binary(); f:writeObject(m); f:seek(1); m2 = f:readObject()")
    again = lua.eval("function(x, t) return m2:forward({x, t}) end")(x.astype(dtype), targets.astype(np.int32))
    np.testing.assert_array_equal(again, out)
    loss, grad = lua.eval("function(o) local c = nn.TreeNLLCriterion(); return c:forward(o), c:backward(o) end")(out)
    np.testing.assert_allclose(loss, -out.astype(np.float64).mean(), rtol=1e-6)
    np.testing.assert_allclose(grad, np.full(6, -1 / 6), rtol=1e-6)
    with pytest.raises(st.LuaError, match=r"node 1 \(on the path of target 1, row 1\) has no parent in the tree"):
        f(x[:1].astype(dtype), np.array([1], np.int32))
    with pytest.raises(st.LuaError, match=r"<nn.SoftMaxTree> x must be batch x 5, got 6x4"):
        f(x[:, :4].astype(dtype), targets.astype(np.int32))


@pytest.mark.parametrize("dtype", DTYPES)
def test_pixel_sort(lua, dtype):
    x = np.random.default_rng(8).standard_normal((2, 3, 4, 6))
    out = fwd(lua, "nn.PixelSort(2)", x, dtype)
    ref = np.zeros((2, 12, 2, 3))
    for c in range(3):
        for i in range(2):
            for j in range(2):
                ref[:, c * 4 + i * 2 + j] = x[:, c, i::2, j::2]
    np.testing.assert_array_equal(out, ref.astype(dtype))
    np.testing.assert_array_equal(fwd(lua, "nn.PixelSort(2)", x[1], dtype), ref[1].astype(dtype))
    # the backward puts each gradient back on its pixel: PixelShuffle's forward
    g = np.random.default_rng(9).standard_normal(ref.shape).astype(dtype)
    gi = lua.eval("function(x, g) return m:backward(x, g) end")(x.astype(dtype), g)
    back = np.zeros(x.shape)
    for c in range(3):
        for i in range(2):
            for j in range(2):
                back[:, c, i::2, j::2] = g[:, c * 4 + i * 2 + j]
    np.testing.assert_array_equal(gi, back.astype(dtype))
    roundtrip(lua, x, dtype)
    with pytest.raises(st.LuaError, match=r"<nn.PixelSort> input height and width \(4x5\) must be multiples of 2"):
        fwd(lua, "nn.PixelSort(2)", x[:, :, :, :5], dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("qd", [True, False])
def test_qdriemann_linear(lua, dtype, qd):
    rng = np.random.default_rng(10)
    x1, x2 = rng.standard_normal((5, 3)), rng.standard_normal((5, 3))
    g1, g2 = rng.standard_normal((5, 2)), rng.standard_normal((5, 2))
    lua.execute(f"torch.manualSeed(4); m = nnx.QDRiemaNNLinear(3, 2, 0.25, {'true' if qd else 'false'})"
                f":type('{TNAME[dtype]}')")
    W, b = lua.eval("m.weight").astype(np.float64), lua.eval("m.bias").astype(np.float64)
    np.testing.assert_array_equal(b, 0)
    step = lua.eval("function(x, g) m:zeroGradParameters(); local y = m:forward(x):clone(); m:backward(x, g); "
                    "return y, m.gradWeight:clone(), m.gradBias:clone() end")
    Mii = M0i = M00 = None
    for x, g in ((x1, g1), (x2, g2)):
        xd, gd = x.astype(dtype).astype(np.float64), g.astype(dtype).astype(np.float64)
        y, gw, gb = step(x.astype(dtype), g.astype(dtype))
        np.testing.assert_allclose(y, xd @ W.T + b, **tol(dtype))
        lw, lb = gd.T @ xd, gd.sum(0)                                    # nn.Linear's gradients
        g2t = (gd ** 2).T
        new = (g2t @ xd ** 2, g2t @ xd, g2t.sum(1))
        if Mii is None:
            Mii, M0i, M00 = new
        else:
            Mii, M0i, M00 = (0.75 * old + 0.25 * n for old, n in zip((Mii, M0i, M00), new))
        if qd:
            rw = (lw * M00[:, None] - M0i * lb[:, None]) / np.clip(Mii * M00[:, None] - M0i ** 2, 1e-12, 1e25)
            rb = (lb - (M0i * rw).sum(1)) / (M00 + 1e-12)
        else:
            Mii, M00 = Mii + 1e-12, M00 + 1e-12                         # nnx regularises the metric in place
            rw, rb = lw / Mii, lb / M00
        np.testing.assert_allclose(gw, rw, rtol=2e-3 if dtype == np.float32 else 1e-9)
        np.testing.assert_allclose(gb, rb, rtol=2e-3 if dtype == np.float32 else 1e-9, atol=1e-6)
    roundtrip(lua, x1, dtype)


def test_super_and_dist_nll_criterion(lua):
    rng = np.random.default_rng(11)
    a, b = rng.standard_normal(4), rng.standard_normal(4)
    ta, tb = rng.standard_normal(4), rng.standard_normal(4)
    f = lua.eval("function(a, b, ta, tb) local c = nn.SuperCriterion(); c:add(nn.MSECriterion(), 0.5); "
                 "c:add(nn.AbsCriterion(), 2); local l = c:forward({a, b}, {ta, tb}); "
                 "local g = c:backward({a, b}, {ta, tb}); return l, g[1], g[2] end")
    loss, ga, gb = f(a, b, ta, tb)
    np.testing.assert_allclose(loss, 0.5 * ((a - ta) ** 2).mean() + 2 * np.abs(b - tb).mean(), rtol=1e-12)
    np.testing.assert_allclose(ga, 0.5 * 2 * (a - ta) / 4, rtol=1e-12)
    np.testing.assert_allclose(gb, 2 * np.sign(b - tb) / 4, rtol=1e-12)
    # one target for all
    loss = lua.eval("function(a, b, t) local c = nn.SuperCriterion(); c:add(nn.MSECriterion()); "
                    "c:add(nn.MSECriterion(), 3); return c:forward({a, b}, t) end")(a, b, ta)
    np.testing.assert_allclose(loss, ((a - ta) ** 2).mean() + 3 * ((b - ta) ** 2).mean(), rtol=1e-12)
    scores, target = rng.standard_normal(5), rng.random(5)
    target /= target.sum()
    d = lua.eval("function(x, t, opts) local c = nn.DistNLLCriterion(opts); return c:forward(x, t), c:backward(x, t) end")
    logq = scores - np.log(np.exp(scores).sum())
    loss, g = d(scores, target, {})
    np.testing.assert_allclose(loss, -(logq * target).sum(), rtol=1e-12)
    q = np.exp(logq)
    np.testing.assert_allclose(g, -target + q * target.sum(), rtol=1e-10, atol=1e-14)
    loss, g = d(scores, target, {"inputIsADistance": True})
    logq = -scores - np.log(np.exp(-scores).sum())
    np.testing.assert_allclose(loss, -(logq * target).sum(), rtol=1e-12)
    np.testing.assert_allclose(g, -(-target + np.exp(logq) * target.sum()), rtol=1e-10, atol=1e-14)
    probs = np.exp(scores) / np.exp(scores).sum()
    loss, g = d(probs, target, {"inputIsProbability": True})
    np.testing.assert_allclose(loss, -(np.log(probs) * target).sum(), rtol=1e-12)
    np.testing.assert_allclose(g, -target / probs, rtol=1e-12)
    loss, _ = d(scores, scores, {"targetIsProbability": False, "inputIsLogProbability": True})
    sm = np.exp(scores) / np.exp(scores).sum()
    np.testing.assert_allclose(loss, -(scores * sm).sum(), rtol=1e-12)
    with pytest.raises(st.LuaError, match=r"<nn.DistNLLCriterion> expects a 1D input and a target of as many values, got 5 and 4"):
        d(scores, target[:4], {})


@pytest.mark.parametrize("dtype", DTYPES)
def test_spatial_fovea(lua, dtype):
    x = np.random.default_rng(12).standard_normal((3, 8, 12))
    lua.execute("torch.manualSeed(5)")
    ctor = ("nn.SpatialFovea{nInputPlane = 3, ratios = {1, 2}, fov = 3, sub = 1, "
            "processors = {nn.SpatialConvolution(3, 2, 3, 3), nn.SpatialConvolution(3, 4, 3, 3)}, "
            "preProcessors = {nn.MulConstant(2), nil}}")
    out = fwd(lua, ctor, x, dtype)
    xd = x.astype(dtype).astype(np.float64)
    parts = []
    for i, r in enumerate([1, 2]):
        w = lua.eval(f"m.processors[{i + 1}].weight").astype(np.float64)
        b = lua.eval(f"m.processors[{i + 1}].bias").astype(np.float64)
        down = xd.reshape(3, 8 // r, r, 12 // r, r).mean(axis=(2, 4))
        if i == 0:
            down = down * 2                                  # its preprocessor
        y = conv_valid(np.pad(down, ((0, 0), (1, 1), (1, 1))), w, b)   # (fov - sub) / 2 = 1
        parts.append(y.repeat(r, axis=1).repeat(r, axis=2))
    ref = np.concatenate(parts)
    assert out.shape == (6, 8, 12)
    np.testing.assert_allclose(out, ref, **tol(dtype))
    # focused on (x, y) = (7, 5): each scale's 3x3 window of the padded map, no up-sampling
    lua.execute("m:focus(7, 5)")
    foc = lua.eval("function(x) return m:forward(x) end")(x.astype(dtype))
    assert foc.shape == (6, 1, 1)
    for i, r in enumerate([1, 2]):
        ox, oy = (7 - 1) // r, (5 - 1) // r                   # 0-based corners in the padded map
        c = parts[i].shape[0]
        start = 0 if i == 0 else 2
        w = lua.eval(f"m.processors[{i + 1}].weight").astype(np.float64)
        b = lua.eval(f"m.processors[{i + 1}].bias").astype(np.float64)
        down = xd.reshape(3, 8 // r, r, 12 // r, r).mean(axis=(2, 4)) * (2 if i == 0 else 1)
        win = np.pad(down, ((0, 0), (1, 1), (1, 1)))[:, oy:oy + 3, ox:ox + 3]
        np.testing.assert_allclose(foc[start:start + c, 0, 0], (np.einsum("cij,ocij->o", win, w) + b), **tol(dtype))
    lua.execute("m:focus(nil)")
    roundtrip(lua, x, dtype)
    with pytest.raises(st.LuaError, match=r"<nn.SpatialFovea> input must have 3 input planes, got 2"):
        lua.eval("function(x) return m:forward(x) end")(x[:2].astype(dtype))


def test_push_pull_table_type(lua):
    """:type() converts the pushed and pulled tensors, each module once, where it sits."""
    lua.execute("p = nn.PushTable(1); q = p:pull(2); m = nn.Sequential():add(p):add(nn.Identity()):add(q); m:float()")
    out = lua.eval("function(a, b) return m:forward({a, b}) end")(np.ones(2, np.float32), np.zeros(2, np.float32))
    assert out[1].dtype == np.float32 and out[2].dtype == np.float32
    assert lua.eval("torch.type(p._gradInput)") == "torch.FloatTensor"
    assert lua.eval("q._push == p and p._pulls[1] == q")


def test_require_nnx_gives_the_global_xlua():
    state = st.LuaState()
    state.execute("require 'nnx'")
    assert state.eval("type(xlua) == 'table' and type(xlua.progress) == 'function'")
    state.close()


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("size_average", [True, False])
def test_dist_margin_criterion(lua, dtype, size_average):
    rng = np.random.default_rng(13)
    x = rng.standard_normal((3, 5))
    target = np.array([[2, 4, 0, 0, 0], [1, 0, 3, 0, 0], [5, 1, 2, 3, 0]], dtype=np.float64)  # 0 ends a list
    f = lua.eval(f"function(x, t) local c = nn.DistMarginCriterion(); c.sizeAverage = {str(size_average).lower()}; "
                 "return c:forward(x, t), c:backward(x, t):clone() end")
    loss, grad = f(x.astype(dtype), target.astype(dtype))
    xd = x.astype(dtype).astype(np.float64)
    div = 5 if size_average else 1
    ref_loss, ref_grad = 0.0, np.zeros_like(xd)
    for i in range(3):
        labels = []
        for v in target[i]:
            if v == 0:
                break
            labels.append(int(v) - 1)
        m = min(labels, key=lambda k: xd[i, k])
        for d in range(5):
            if d in labels:
                continue
            z = 1 - xd[i, m] + xd[i, d]
            if z > 0:
                ref_loss += z
                ref_grad[i, d] += 1 / div
                ref_grad[i, m] -= 1 / div
    np.testing.assert_allclose(loss, ref_loss / div, **tol(dtype))
    np.testing.assert_allclose(grad, ref_grad, **tol(dtype))
    l1, g1 = f(x[2].astype(dtype), target[2].astype(dtype))
    row = f(x[2:].astype(dtype), target[2:].astype(dtype))
    np.testing.assert_allclose(l1, row[0], **tol(dtype))
    np.testing.assert_allclose(g1, row[1][0], **tol(dtype))
    with pytest.raises(st.LuaError, match=r"<nn.DistMarginCriterion> target out of range: labels are 1..5"):
        f(x.astype(dtype), (target + 6).astype(dtype))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("full", [False, True])
def test_spatial_matching(lua, dtype, full):
    rng = np.random.default_rng(14)
    maxh, maxw = 3, 4
    a = rng.standard_normal((2, 4, 5))
    b = rng.standard_normal((2, 4, 5) if full else (2, 4 + maxh - 1, 5 + maxw - 1))
    out = lua.eval(f"function(a, b) m = nn.SpatialMatching({maxh}, {maxw}, {str(full).lower()}):type('{TNAME[dtype]}'); "
                   "return m:forward({a, b}) end")(a.astype(dtype), b.astype(dtype))
    ad, bd = a.astype(dtype).astype(np.float64), b.astype(dtype).astype(np.float64)
    ref = np.full((4, 5, maxh, maxw), 1e30)
    oy, ox = (maxh + 1) // 2 - 1 if full else 0, (maxw + 1) // 2 - 1 if full else 0
    for y in range(4):
        for x in range(5):
            for dy in range(maxh):
                for dx in range(maxw):
                    y2, x2 = y + dy - oy, x + dx - ox
                    if 0 <= y2 < b.shape[1] and 0 <= x2 < b.shape[2]:
                        ref[y, x, dy, dx] = ((ad[:, y, x] - bd[:, y2, x2]) ** 2).sum()
    np.testing.assert_allclose(out, ref.astype(dtype), **tol(dtype))
    if not full:
        with pytest.raises(st.LuaError, match=r"<nn.SpatialMatching> without full_output the second map must be at least 6x8"):
            lua.eval("function(a) return m:forward({a, a}) end")(a.astype(dtype))


@pytest.mark.parametrize("dtype", DTYPES)
def test_spatial_radial_matching(lua, dtype):
    rng = np.random.default_rng(15)
    a, b = rng.standard_normal((3, 4, 5)), rng.standard_normal((3, 6, 5))
    out = lua.eval(f"function(a, b) m = nn.SpatialRadialMatching(3):type('{TNAME[dtype]}'); "
                   "return m:forward({a, b}) end")(a.astype(dtype), b.astype(dtype))
    ad, bd = a.astype(dtype).astype(np.float64), b.astype(dtype).astype(np.float64)
    ref = np.stack([((ad - bd[:, d:d + 4]) ** 2).sum(0) for d in range(3)], axis=-1)
    np.testing.assert_allclose(out, ref, **tol(dtype))
    with pytest.raises(st.LuaError, match=r"<nn.SpatialRadialMatching> the second map must be at least 6x5"):
        lua.eval("function(a) return m:forward({a, a}) end")(a.astype(dtype))


@pytest.mark.parametrize("dtype", DTYPES)
def test_spatial_graph(lua, dtype):
    x = np.random.default_rng(16).random((3, 4, 5))
    xd = x.astype(dtype).astype(np.float64)
    ref = np.zeros((2, 4, 5))
    ref[0, :, :-1] = np.sqrt(((xd[:, :, :-1] - xd[:, :, 1:]) ** 2).sum(0)) / np.sqrt(3)
    ref[1, :-1, :] = np.sqrt(((xd[:, :-1, :] - xd[:, 1:, :]) ** 2).sum(0)) / np.sqrt(3)
    np.testing.assert_allclose(fwd(lua, "nn.SpatialGraph{}", x, dtype), ref, **tol(dtype))
    roundtrip(lua, x, dtype)
    np.testing.assert_allclose(fwd(lua, "nn.SpatialGraph{normalize = false}", x, dtype), ref * np.sqrt(3), **tol(dtype))
    xe = xd + 1e-12
    cos = np.zeros((2, 4, 5))
    cos[0, :, :-1] = 3 - (xe[:, :, :-1] * xe[:, :, 1:]).sum(0)
    cos[1, :-1, :] = 3 - (xe[:, :-1, :] * xe[:, 1:, :]).sum(0)
    np.testing.assert_allclose(fwd(lua, "nn.SpatialGraph{dist = 'cosine', normalize = false}", x, dtype), cos, **tol(dtype))
    with pytest.raises(st.LuaError, match=r"<nn.SpatialGraph> normalized cosine is not supported"):
        lua.execute("nn.SpatialGraph{dist = 'cosine'}")


# ------------------------------------------------------------------ backward (nnx's C code)
@pytest.mark.parametrize("dtype", DTYPES)
def test_spatial_linear_backward(lua, dtype):
    rng = np.random.default_rng(17)
    x, g = rng.standard_normal((3, 4, 5)), rng.standard_normal((2, 4, 5))
    lua.execute(f"torch.manualSeed(2); m = nn.SpatialLinear(3, 2):type('{TNAME[dtype]}'); m:zeroGradParameters()")
    W = lua.eval("m.weight").astype(np.float64)
    gi = lua.eval("function(x, g) m:forward(x); return m:backward(x, g):clone() end")(x.astype(dtype), g.astype(dtype))
    xd, gd = x.astype(dtype).astype(np.float64), g.astype(dtype).astype(np.float64)
    np.testing.assert_allclose(gi, np.einsum("oi,ohw->ihw", W, gd), **tol(dtype))
    np.testing.assert_allclose(lua.eval("m.gradWeight"), np.einsum("ohw,ihw->oi", gd, xd), **tol(dtype))
    np.testing.assert_allclose(lua.eval("m.gradBias"), gd.sum((1, 2)), **tol(dtype))
    # nnx's weightDecay adds the weight once per pixel
    lua.execute("m:zeroGradParameters(); m.weightDecay = 1")
    lua.eval("function(x, g) m:backward(x, g) end")(x.astype(dtype), g.astype(dtype))
    np.testing.assert_allclose(lua.eval("m.gradWeight"), np.einsum("ohw,ihw->oi", gd, xd) + 20 * W, **tol(dtype))


@pytest.mark.parametrize("dtype", DTYPES)
def test_spatial_classifier_backward(lua, dtype):
    rng = np.random.default_rng(18)
    x, g = rng.standard_normal((3, 2, 4)), rng.standard_normal((5, 2, 4))
    lua.execute(f"torch.manualSeed(3); m = nn.SpatialClassifier(nn.Linear(3, 5)):type('{TNAME[dtype]}'); "
                "m:zeroGradParameters()")
    W = lua.eval("m.classifier.weight").astype(np.float64)
    gi = lua.eval("function(x, g) m:forward(x); return m:backward(x, g):clone() end")(x.astype(dtype), g.astype(dtype))
    xd, gd = x.astype(dtype).astype(np.float64), g.astype(dtype).astype(np.float64)
    np.testing.assert_allclose(gi, np.einsum("ok,ohw->khw", W, gd), **tol(dtype))
    np.testing.assert_allclose(lua.eval("m.classifier.gradWeight"), np.einsum("ohw,khw->ok", gd, xd), **tol(dtype))
    np.testing.assert_allclose(lua.eval("m.classifier.gradBias"), gd.sum((1, 2)), **tol(dtype))


@pytest.mark.parametrize("dtype", DTYPES)
def test_spatial_max_sampling_backward(lua, dtype):
    rng = np.random.default_rng(19)
    x = rng.standard_normal((2, 7, 10))
    for oH, oW in ((3, 4), (9, 11)):                    # up-sampling: pixels reached more than once
        g = rng.standard_normal((2, oH, oW))
        gi = lua.eval(f"function(x, g) m = nn.SpatialMaxSampling({oW}, {oH}):type('{TNAME[dtype]}'); "
                      "m:forward(x); return m:backward(x, g):clone() end")(x.astype(dtype), g.astype(dtype))
        _, idx = max_sampling_ref(x.astype(dtype), oH, oW)
        ref = np.zeros(x.shape)
        for c in range(2):
            for i in range(oH):
                ys = int(Fraction(i * 7, oH))
                for j in range(oW):
                    xs = int(Fraction(j * 10, oW))
                    ref[c, ys + int(idx[0, c, i, j]) - 1, xs + int(idx[1, c, i, j]) - 1] += g.astype(dtype)[c, i, j]
        np.testing.assert_allclose(gi, ref, **tol(dtype))
