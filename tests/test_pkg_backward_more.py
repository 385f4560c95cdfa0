"""The backward of stn's three modules and of nnx's SoftMaxTree, SpatialColorTransform,
SpatialFovea, SpatialGraph, SpatialMatching, SpatialPyramid and SpatialRadialMatching:
gradients against finite differences in double (nn.Jacobian for tensor inputs, gradcheck for
tables), float against double, BilinearSamplerBHWD's two gradients against a NumPy loop
written from stnbhwd's C code, and a whole spatial transformer trained by SGD."""
import numpy as np
import pytest

import sparktorch7 as st
from gradcheck import install

HELPERS = r"""
-- double tensors of a nested table as floats (integer tensors, such as targets, stay)
function tofloat(x)
   if torch.isTensor(x) then return torch.type(x) == 'torch.DoubleTensor' and x:float() or x end
   local t = {}
   for i = 1, #x do t[i] = tofloat(x[i]) end
   return t
end

-- the largest difference between the gradInputs (and the parameters' gradients) of m in
-- double and of its float copy, for the same input and gradOutput R, and the largest value
function agree(m, x, R)
   local y = m:forward(x)
   R = R or gradcheck.randomLike(y)
   m:zeroGradParameters()
   local gd = gradcheck.leaves(gradcheck.clone(m:backward(x, R)))
   local _, pd = m:parameters()
   local mf = m:clone():float()
   local xf, Rf = tofloat(x), tofloat(R)
   mf:forward(xf)
   mf:zeroGradParameters()
   local gf = gradcheck.leaves(mf:backward(xf, Rf))
   local _, pf = mf:parameters()
   for i = 1, pd and #pd or 0 do gd[#gd + 1], gf[#gf + 1] = pd[i], pf[i] end
   local err, scale = 0, 0
   for i = 1, #gd do
      if torch.type(gd[i]) == 'torch.DoubleTensor' then
         err = math.max(err, (gd[i] - gf[i]:double()):abs():max())
         scale = math.max(scale, gd[i]:abs():max())
      end
   end
   return err, scale
end

-- a tensor-input view of a module whose input is {x, extra}: nn.Jacobian perturbs x only
local WithExtra, parent = torch.class('WithExtra', 'nn.Module')
function WithExtra:__init(m, extra) parent.__init(self); self.m, self.extra = m, extra end
function WithExtra:updateOutput(x) self.output = self.m:forward({x, self.extra}); return self.output end
function WithExtra:updateGradInput(x, g) self.gradInput = self.m:updateGradInput({x, self.extra}, g)[1]; return self.gradInput end
function WithExtra:accGradParameters(x, g, s) self.m:accGradParameters({x, self.extra}, g, s) end
function WithExtra:parameters() return self.m:parameters() end
"""


@pytest.fixture
def lua():
    state = st.LuaState()
    state.execute("require 'stn'; require 'nnx'; torch.manualSeed(7)")
    install(state)
    state.execute(HELPERS)
    yield state
    state.close()


def jac(lua, ctor, shape):
    return lua.eval(f"nn.Jacobian.testJacobian({ctor}, torch.randn({shape}))")


def check_agree(lua, expr, rtol=1e-4):
    err, scale = lua.eval(f"function() return agree({expr}) end")()
    assert scale > 0.1
    assert err < rtol * scale


# ---------------------------------------------------------------------------- stn

@pytest.mark.parametrize("flags", ["", "true, false, false", "false, true, false", "false, false, true",
                                   "true, true, false", "true, true, true", "false, true, true"])
def test_affine_transform_matrix_generator_gradient(lua, flags):
    n = 6 if not flags else sum(w for w, f in zip([1, 1, 2], flags.split(", ")) if f == "true")
    m = f"nn.AffineTransformMatrixGenerator({flags})"
    assert jac(lua, m, f"4, {n}") < 1e-8
    assert jac(lua, m, f"{n}") < 1e-8               # one vector, no batch
    check_agree(lua, f"{m}, torch.randn(4, {n})")
    # one vector's gradient is a vector; a gradOutput of the wrong size is an error
    assert lua.eval(f"(function() local a = {m}; local p = torch.randn({n}); a:forward(p); "
                    "return a:backward(p, torch.randn(2, 3)):dim() end)()") == 1
    with pytest.raises(st.LuaError, match=r"<nn.AffineTransformMatrixGenerator> gradOutput must be 4x2x3, got 4x6x1"):
        lua.execute(f"local a = {m}; local p = torch.randn(4, {n}); a:forward(p); a:backward(p, torch.randn(4, 6, 1))")


def test_affine_grid_generator_gradient(lua):
    assert jac(lua, "nn.AffineGridGeneratorBHWD(4, 5)", "3, 2, 3") < 1e-8
    assert jac(lua, "nn.AffineGridGeneratorBHWD(3, 6)", "2, 3") < 1e-8
    check_agree(lua, "nn.AffineGridGeneratorBHWD(4, 5), torch.randn(3, 2, 3)")
    # against the formula: dE/dM[b] = sum over the grid of gradGrid (y, x) times (y, x, 1)
    rng = np.random.default_rng(1)
    theta, gg = rng.standard_normal((2, 2, 3)), rng.standard_normal((2, 4, 5, 2))
    g = lua.eval("function(t, gg) local m = nn.AffineGridGeneratorBHWD(4, 5); m:forward(t); "
                 "return m:backward(t, gg) end")(theta, gg)
    ys, xs = np.meshgrid(np.linspace(-1, 1, 4), np.linspace(-1, 1, 5), indexing="ij")
    base = np.stack([ys, xs, np.ones_like(ys)], axis=-1).reshape(-1, 3)
    np.testing.assert_allclose(g, np.einsum("bpk,pj->bkj", gg.reshape(2, -1, 2), base), rtol=1e-12)
    with pytest.raises(st.LuaError, match=r"<nn.AffineGridGeneratorBHWD> gradOutput must be the grid's size, "
                                          r"2x4x5x2, got 2x4x4x2"):
        lua.eval("function(t, gg) local m = nn.AffineGridGeneratorBHWD(4, 5); m:forward(t); "
                 "return m:backward(t, gg) end")(theta, gg[:, :, :4])


def sampler_grads_reference(images, grids, gout):
    """stnbhwd's backward, one output pixel at a time, in double."""
    B, H, W, C = images.shape
    gi, gg = np.zeros_like(images), np.zeros_like(grids)
    for b in range(B):
        for i in range(grids.shape[1]):
            for j in range(grids.shape[2]):
                y = (grids[b, i, j, 0] + 1) * (H - 1) / 2
                x = (grids[b, i, j, 1] + 1) * (W - 1) / 2
                y0, x0 = int(np.floor(y)), int(np.floor(x))
                dy, dx = y - y0, x - x0
                go = gout[b, i, j]
                gy = gx = 0.0
                # corner: (row, col, weight, d weight / dy, d weight / dx)
                for yy, xx, w, wy, wx in ((y0, x0, (1 - dy) * (1 - dx), -(1 - dx), -(1 - dy)),
                                          (y0, x0 + 1, (1 - dy) * dx, -dx, 1 - dy),
                                          (y0 + 1, x0, dy * (1 - dx), 1 - dx, -dy),
                                          (y0 + 1, x0 + 1, dy * dx, dx, dy)):
                    if 0 <= yy < H and 0 <= xx < W:
                        gi[b, yy, xx] += w * go
                        v = images[b, yy, xx] @ go
                        gy += wy * v
                        gx += wx * v
                gg[b, i, j] = gy * (H - 1) / 2, gx * (W - 1) / 2
    return gi, gg


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_bilinear_sampler_gradients_against_numpy(lua, dtype):
    rng = np.random.default_rng(2)
    images = rng.standard_normal((2, 5, 6, 3))
    grids = rng.uniform(-1.2, 1.2, (2, 4, 7, 2))            # some points outside the image
    gout = rng.standard_normal((2, 4, 7, 3))
    f = lua.eval("function(x, g, go) local m = nn.BilinearSamplerBHWD(); m:forward({x, g}); "
                 "local gi = m:backward({x, g}, go); return gi[1], gi[2] end")
    gi, gg = f(images.astype(dtype), grids.astype(dtype), gout.astype(dtype))
    ri, rg = sampler_grads_reference(*(a.astype(dtype).astype(np.float64) for a in (images, grids, gout)))
    t = dict(rtol=1e-10, atol=1e-12) if dtype == np.float64 else dict(rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(gi, ri, **t)
    np.testing.assert_allclose(gg, rg, **t)
    assert np.abs(rg).max() > 1 and np.abs(ri).max() > 1
    # one image without the batch dimension: the same, without it
    gi1, gg1 = f(images[1].astype(dtype), grids[1].astype(dtype), gout[1].astype(dtype))
    np.testing.assert_allclose(gi1, ri[1], **t)
    np.testing.assert_allclose(gg1, rg[1], **t)


def test_bilinear_sampler_finite_differences(lua):
    err, scale = lua.eval("gradcheck.module(nn.BilinearSamplerBHWD(), "
                          "{torch.randn(2, 5, 6, 3), torch.rand(2, 4, 3, 2) * 2.2 - 1.1})")
    assert scale > 1 and err < 1e-6
    check_agree(lua, "nn.BilinearSamplerBHWD(), {torch.randn(2, 5, 6, 3), torch.rand(2, 4, 3, 2) * 2 - 1}")
    with pytest.raises(st.LuaError, match=r"<nn.BilinearSamplerBHWD> gradOutput must be the output's size, "
                                          r"2x4x3x3, got 2x4x3"):
        lua.execute("m = nn.BilinearSamplerBHWD(); x = {torch.randn(2, 5, 6, 3), torch.rand(2, 4, 3, 2)}; "
                    "m:forward(x); m:backward(x, torch.randn(2, 4, 3))")


STN = """
torch.manualSeed(11)
local H, W = 8, 8
-- the localisation net: (rotation, scale, tx, ty), starting near the identity
loc = nn.Sequential():add(nn.View(-1, H * W)):add(nn.Linear(H * W, 4))
loc.modules[2].weight:mul(0.01); loc.modules[2].bias:copy(torch.Tensor{0, 1, 0, 0})
grid = nn.Sequential():add(loc):add(nn.AffineTransformMatrixGenerator(true, true, true))
    :add(nn.AffineGridGeneratorBHWD(H, W))
stn = nn.Sequential():add(nn.ConcatTable():add(nn.Identity()):add(grid)):add(nn.BilinearSamplerBHWD())
"""


def test_spatial_transformer_backpropagates_and_learns(lua):
    lua.execute(STN)
    # every parameter's gradient through the whole chain, against finite differences
    err, scale = lua.eval("gradcheck.params(stn, torch.rand(2, 8, 8, 1))")
    assert scale > 1e-3 and err < 1e-6 * max(1.0, scale)
    err, scale = lua.eval("gradcheck.module(stn, torch.rand(2, 8, 8, 1))")
    assert scale > 1e-3 and err < 1e-6 * max(1.0, scale)
    # SGD on the squared error to the images shifted by one pixel lowers the loss
    rng = np.random.default_rng(5)
    x = np.zeros((4, 8, 8, 1))
    x[:, 2:6, 2:6, 0] = rng.uniform(0.5, 1, (4, 4, 4))
    target = np.roll(x, 1, axis=2)
    train = lua.eval("""function(x, t)
      local crit = nn.MSECriterion(); local losses = {}
      for step = 1, 40 do
         local y = stn:forward(x)
         losses[step] = crit:forward(y, t)
         stn:zeroGradParameters()
         stn:backward(x, crit:backward(y, t))
         stn:updateParameters(0.05)
      end
      return losses end""")
    losses = train(x, target)
    losses = [losses[i] for i in sorted(losses)]
    assert losses[-1] < 0.01 * losses[0]


# ---------------------------------------------------------------------------- nnx

TREE = """
h = {[1] = torch.IntTensor{2, 3, 4}, [2] = torch.IntTensor{5, 6}, [4] = torch.IntTensor{7, 8, 9, 10}}
smt = nn.SoftMaxTree(6, h)
x = torch.randn(5, 6); t = torch.IntTensor{5, 3, 9, 7, 6}
"""


def test_soft_max_tree_gradients(lua):
    lua.execute(TREE)
    # the forward's log-sum uses TH's approximate exp(-x), the gradient the exact exp (nnx):
    # with inputs and parameters in [-0.5, 0.5] the siblings' scores are close and the
    # approximation (a 4th-order Taylor series of exp(x/8), to the 8th power) within 1e-5;
    # with nn.Jacobian's [-2, 2] within 1e-3
    assert lua.eval("nn.Jacobian.testJacobian(WithExtra(smt, t), x, -0.5, 0.5)") < 1e-5
    for limits, bound in ((", -0.5, 0.5", 1e-5), ("", 1e-3)):
        for p in ("weight", "bias"):          # (each check draws its input and parameter)
            g = "grad" + p[0].upper() + p[1:]
            assert lua.eval(f"nn.Jacobian.testJacobianParameters(WithExtra(smt, t), x, smt.{p}, smt.{g}{limits})") < bound
    lua.execute("smt:reset(); x = torch.randn(5, 6)")
    check_agree(lua, "smt, {x, t}")
    # gradInput[2] is a zero tensor of the targets' size; rows of nodes off every path stay 0
    lua.execute("smt:zeroGradParameters(); smt:forward({x, t}); gi = smt:backward({x, t}, torch.ones(5), 0.5)")
    assert lua.eval("gi[2]:nElement()") == 5 and lua.eval("gi[2]:abs():sum()") == 0
    gw = lua.eval("smt.gradWeight")
    # children of 1 are rows 1-3, of 2 rows 4-5, of 4 rows 6-9: every parent is on some path
    assert np.abs(gw).sum(axis=1).min() > 0
    # updates: each parent on the paths, the scales summed (root 1 on all five paths)
    assert lua.eval("smt.updates[1]") == 2.5 and lua.eval("smt.updates[2]") == 1.0
    assert lua.eval("smt.updates[4]") == 1.0
    # scale: a second accumulation with scale 2 triples the first (0.5 + 2 = 5 x 0.5)
    lua.execute("gw1 = smt.gradWeight:clone(); smt:accGradParameters({x, t}, torch.ones(5), 2)")
    np.testing.assert_allclose(lua.eval("smt.gradWeight"), 5 * lua.eval("gw1"), rtol=1e-12)
    lua.execute("smt:zeroGradParameters()")
    assert lua.eval("next(smt.updates) == nil") and lua.eval("smt.gradWeight:abs():sum()") == 0


def test_soft_max_tree_gradient_against_numpy(lua):
    """dE/dx for one row: sum over the path of W_siblings' (g (onehot - softmax))."""
    lua.execute(TREE)
    x, W, b = lua.eval("x"), lua.eval("smt.weight"), lua.eval("smt.bias")
    g = np.arange(1.0, 6.0)
    gi = lua.eval("function(g) smt:forward({x, t}); return smt:updateGradInput({x, t}, g)[1] end")(g)
    rows = {1: (0, 3), 2: (3, 2), 4: (5, 4)}                   # parent -> first row, children
    parent = {2: (1, 0), 3: (1, 1), 4: (1, 2), 5: (2, 0), 6: (2, 1), 7: (4, 0), 8: (4, 1), 9: (4, 2), 10: (4, 3)}
    for i, leaf in enumerate([5, 3, 9, 7, 6]):
        ref, node = np.zeros(6), leaf
        while node != 1:
            p, k = parent[node]
            s, n = rows[p]
            z = W[s:s + n] @ x[i] + b[s:s + n]
            d = -np.exp(z - z.max()) / np.exp(z - z.max()).sum()
            d[k] += 1
            ref += g[i] * d @ W[s:s + n]
            node = p
        np.testing.assert_allclose(gi[i], ref, rtol=1e-6, atol=1e-8)   # the approximate exp


def test_soft_max_tree_acc_update(lua):
    """accUpdate (no gradWeight): accUpdateGradParameters moves the weight by -lr times the
    gradient that a tree with gradWeight accumulates."""
    lua.execute(TREE + "a = nn.SoftMaxTree(6, h, 1, true); a.weight:copy(smt.weight); a.bias:copy(smt.bias)")
    lua.execute("go = torch.randn(5); smt:zeroGradParameters(); smt:forward({x, t}); smt:backward({x, t}, go)")
    lua.execute("w0 = a.weight:clone(); a:forward({x, t}); a:updateGradInput({x, t}, go); "
                "a:accUpdateGradParameters({x, t}, go, 0.1)")
    np.testing.assert_allclose(lua.eval("a.weight - w0"), -0.1 * lua.eval("smt.gradWeight"), rtol=1e-10, atol=1e-14)
    with pytest.raises(st.LuaError, match=r"<nn.SoftMaxTree> accGradParameters needs gradWeight and gradBias"):
        lua.execute("a:accGradParameters({x, t}, go)")
    with pytest.raises(st.LuaError, match=r"<nn.SoftMaxTree> gradOutput must be a 1D tensor of 5 values "
                                          r"\(one per row\), got 5x1"):
        lua.execute("smt:backward({x, t}, torch.randn(5, 1))")


def masked(lua, name):
    # a random gradOutput that is 0 where the output holds nnx's 1e30 (no match)
    lua.execute(f"R = torch.randn({name}.output:size()); R[torch.ge({name}.output, 1e29)] = 0")


@pytest.mark.parametrize("full", [False, True])
def test_spatial_matching_gradient(lua, full):
    f = "true" if full else "false"
    lua.execute(f"m = nn.SpatialMatching(3, 4, {f}); a = torch.randn(2, 4, 5); "
                f"b = torch.randn(2, {4 if full else 6}, {5 if full else 8}); m:forward({{a, b}})")
    masked(lua, "m")
    err, scale = lua.eval("gradcheck.module(m, {a, b}, R)")
    assert scale > 1 and err < 1e-6
    check_agree(lua, "m, {a, b}, R")
    # against the definition: dE/da[:, y, x] = sum over its matches of 2 (a - b) R
    a, b, R = lua.eval("a"), lua.eval("b"), lua.eval("R")
    g1, g2 = lua.eval("(function() local g = m:backward({a, b}, R); return g[1], g[2] end)()")
    oy, ox = (1, 1) if full else (0, 0)
    r1, r2 = np.zeros_like(a), np.zeros_like(b)
    for y in range(4):
        for x in range(5):
            for dy in range(3):
                for dx in range(4):
                    yy, xx = y + dy - oy, x + dx - ox
                    if 0 <= yy < b.shape[1] and 0 <= xx < b.shape[2]:
                        d = 2 * (a[:, y, x] - b[:, yy, xx]) * R[y, x, dy, dx]
                        r1[:, y, x] += d
                        r2[:, yy, xx] -= d
    np.testing.assert_allclose(g1, r1, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(g2, r2, rtol=1e-12, atol=1e-12)


def test_spatial_radial_matching_gradient(lua):
    lua.execute("m = nn.SpatialRadialMatching(3); a = torch.randn(2, 4, 5); b = torch.randn(2, 6, 6)")
    err, scale = lua.eval("gradcheck.module(m, {a, b})")
    assert scale > 1 and err < 1e-6
    check_agree(lua, "m, {a, b}")
    with pytest.raises(st.LuaError, match=r"<nn.SpatialRadialMatching> gradOutput must be the output's size, "
                                          r"4x5x3, got 4x5"):
        lua.execute("m:forward({a, b}); m:backward({a, b}, torch.randn(4, 5))")


@pytest.mark.parametrize("args", ["{}", "{normalize = false}", "{dist = 'cosine', normalize = false}"])
def test_spatial_graph_gradient(lua, args):
    # positive features apart from each other (the Euclidean distance's gradient has a kink at 0)
    lua.execute(f"m = nn.SpatialGraph{args}; x = torch.rand(3, 4, 5) + 0.1")
    assert lua.eval("nn.Jacobian.testJacobian(m, x, 0.1, 1.1)") < 1e-6
    check_agree(lua, "m, x")
    with pytest.raises(st.LuaError, match=r"<nn.SpatialGraph> gradOutput must be 2x4x5, got 2x4x4"):
        lua.execute("m:forward(x); m:backward(x, torch.randn(2, 4, 4))")


@pytest.mark.parametrize("transform", ["rgb2yuv", "yuv2rgb", "rgb2y"])
def test_spatial_color_transform_linear_gradient(lua, transform):
    lua.execute(f"m = nn.SpatialColorTransform('{transform}'); x = torch.rand(3, 4, 5)")
    assert lua.eval("nn.Jacobian.testJacobian(m, x)") < 1e-8
    check_agree(lua, "m, x")
    # dE/dx at each pixel is the colour matrix transposed times dE/dy; the matrix is constant
    lua.execute("y = m:forward(x); R = torch.randn(y:size()); w0 = m.linear.weight:clone()")
    g, R, Wm = lua.eval("m:backward(x, R)"), lua.eval("R"), lua.eval("w0")
    np.testing.assert_allclose(g, np.einsum("oc,ohw->chw", Wm, R), rtol=1e-12)
    np.testing.assert_array_equal(lua.eval("m.linear.weight"), Wm)
    assert lua.eval("m:parameters() == nil")


def test_spatial_color_transform_nonlinear_has_no_backward(lua):
    lua.execute("m = nn.SpatialColorTransform('rgb2hsv'); x = torch.rand(3, 4, 5); m:forward(x)")
    with pytest.raises(st.LuaError, match=r"<nn.SpatialColorTransform> rgb2hsv has no backward \(nnx implements "
                                          r"the gradient of the linear transforms rgb2yuv, yuv2rgb and rgb2y only\)"):
        lua.execute("m:backward(x, torch.randn(3, 4, 5))")


FOVEA = ("nn.SpatialFovea{{nInputPlane = 2, ratios = {{1, 2}}, fov = 3, sub = 1, bilinear = {bil}, "
         "processors = {{nn.SpatialConvolution(2, 2, 3, 3), nn.SpatialConvolution(2, 3, 3, 3)}}, "
         "preProcessors = {{nn.Tanh(), nil}}}}")


@pytest.mark.parametrize("bilinear", ["false", "true"])
def test_spatial_fovea_gradient(lua, bilinear):
    lua.execute(f"m = {FOVEA.format(bil=bilinear)}; x = torch.randn(2, 8, 10)")
    assert lua.eval("nn.Jacobian.testJacobian(m, x)") < 1e-6
    for k in (1, 2):
        for p in ("weight", "bias"):
            assert lua.eval(f"nn.Jacobian.testJacobianParameters(m, x, m.processors[{k}].{p}, "
                            f"m.processors[{k}].grad{p[0].upper() + p[1:]})") < 1e-6
    assert lua.eval("#m:parameters()") == 4
    check_agree(lua, "m, x")
    # focused: the window's gradient lands on the pixels it reads
    lua.execute("m:focus(5, 3)")
    assert lua.eval("nn.Jacobian.testJacobian(m, x)") < 1e-6
    assert lua.eval("nn.Jacobian.testJacobianParameters(m, x, m.processors[2].weight, m.processors[2].gradWeight)") < 1e-6
    g = lua.eval("(function() m:forward(x); return m:backward(x, torch.ones(5, 1, 1)) end)()")
    assert np.count_nonzero(np.abs(g).sum(axis=0)) < 8 * 10 / 2


def test_spatial_pyramid_gradient(lua):
    lua.execute("m = nn.SpatialPyramid({1, 2}, {nn.SpatialConvolution(2, 2, 3, 3), nn.SpatialConvolution(2, 2, 3, 3)}, "
                "3, 3, 1, 1); x = torch.randn(2, 8, 6)")
    err, scale = lua.eval("gradcheck.module(m, x)")
    assert scale > 0.1 and err < 1e-6
    err, scale = lua.eval("gradcheck.params(m, x)")
    assert scale > 0.1 and err < 1e-6
    check_agree(lua, "m, x")
    # focused on (3, 4): a 1x1 output per scale from a window of the padded scales
    lua.execute("m:focus(3, 4, 1, 1)")
    assert lua.eval("(function() return m:forward(x)[2]:nElement() end)()") == 2
    err, scale = lua.eval("gradcheck.module(m, x)")
    assert scale > 0.1 and err < 1e-6
    err, scale = lua.eval("gradcheck.params(m, x)")
    assert scale > 0.1 and err < 1e-6


def test_spatial_fovea_bad_gradient(lua):
    lua.execute(f"m = {FOVEA.format(bil='false')}; x = torch.randn(2, 8, 10)")
    with pytest.raises(st.LuaError, match=r"<nn.SpatialFovea> updateGradInput needs the forward of this input first"):
        lua.execute("m:backward(x, torch.randn(5, 8, 10))")
    with pytest.raises(st.LuaError, match=r"<nn.SpatialFovea> gradOutput must be the output's size, 5x8x10, got 5x8x9"):
        lua.execute("m:forward(x); m:backward(x, torch.randn(5, 8, 9))")
