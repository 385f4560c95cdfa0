"""stn (qassemoquab/stnbhwd's spatial transformer modules, `require 'stn'`) against NumPy
references written from stnbhwd's Lua and C code, float and double, batch and single
input, save/load round trips, and a model file that needs stn loaded without requiring it."""
import numpy as np
import pytest

import sparktorch7 as st
from pkg_helpers import DTYPES, TNAME, package_fixture, roundtrip, tol
from sparktorch7.model import load_model

lua = package_fixture("stn")


def matrices(params, rot, scale, trans):
    out = []
    for p in params:
        M, i = np.eye(3), 0
        if rot:
            a = p[i]; i += 1
            M = M @ np.array([[np.cos(a), -np.sin(a), 0], [np.sin(a), np.cos(a), 0], [0, 0, 1]])
        if scale:
            s = p[i]; i += 1
            M = M @ np.diag([s, s, 1.0])
        if trans:
            M = M @ np.array([[1, 0, p[i]], [0, 1, p[i + 1]], [0, 0, 1.0]])
        out.append(M[:2])
    return np.array(out)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("flags", [(True, False, False), (False, True, True), (True, True, True)])
def test_affine_transform_matrix_generator(lua, dtype, flags):
    n = flags[0] + flags[1] + 2 * flags[2]
    p = np.random.default_rng(0).standard_normal((3, n))
    args = ", ".join(str(f).lower() for f in flags)
    f = lua.eval(f"function(p) m = nn.AffineTransformMatrixGenerator({args}):type('{TNAME[dtype]}'); "
                 "return m:forward(p):clone() end")
    ref = matrices(p.astype(dtype).astype(np.float64), *flags)
    np.testing.assert_allclose(f(p.astype(dtype)), ref, **tol(dtype))
    np.testing.assert_allclose(f(p[1].astype(dtype)), ref[1], **tol(dtype))
    roundtrip(lua, p, dtype)
    with pytest.raises(st.LuaError, match=rf"<nn.AffineTransformMatrixGenerator> expected {n} parameters"):
        f(np.zeros((2, n + 1), dtype))


def test_affine_transform_matrix_generator_full(lua):
    p = np.arange(12.0).reshape(2, 6)
    out = lua.eval("function(p) return nn.AffineTransformMatrixGenerator():forward(p) end")(p)
    np.testing.assert_array_equal(out, p.reshape(2, 2, 3))


@pytest.mark.parametrize("dtype", DTYPES)
def test_affine_grid_generator(lua, dtype):
    M = np.random.default_rng(1).standard_normal((2, 2, 3))
    f = lua.eval(f"function(m) mod = nn.AffineGridGeneratorBHWD(4, 5):type('{TNAME[dtype]}'); "
                 "return mod:forward(m):clone() end")
    out = f(M.astype(dtype))
    ys, xs = np.linspace(-1, 1, 4), np.linspace(-1, 1, 5)
    base = np.stack(list(np.meshgrid(ys, xs, indexing="ij")) + [np.ones((4, 5))], axis=-1)     # (y, x, 1)
    ref = np.einsum("hwk,bjk->bhwj", base, M.astype(dtype).astype(np.float64))
    assert out.shape == (2, 4, 5, 2)
    np.testing.assert_allclose(out, ref, **tol(dtype))
    np.testing.assert_allclose(f(M[1].astype(dtype)), ref[1], **tol(dtype))
    with pytest.raises(st.LuaError, match=r"<nn.AffineGridGeneratorBHWD> please input affine transform matrices \(B x 2 x 3 or 2 x 3\), got 2x3x3"):
        f(np.zeros((2, 3, 3), dtype))


def sample_ref(img, grid):
    """BilinearSamplerBHWD_updateOutput pixel by pixel (corners outside count 0)."""
    B, H, W, C = img.shape
    out = np.zeros(grid.shape[:3] + (C,))
    for b in range(B):
        for i in range(grid.shape[1]):
            for j in range(grid.shape[2]):
                y = (grid[b, i, j, 0] + 1) * (H - 1) / 2
                x = (grid[b, i, j, 1] + 1) * (W - 1) / 2
                y0, x0 = int(np.floor(y)), int(np.floor(x))
                wy, wx = 1 - (y - y0), 1 - (x - x0)
                for (yy, xx, w) in ((y0, x0, wx * wy), (y0, x0 + 1, (1 - wx) * wy),
                                    (y0 + 1, x0, wx * (1 - wy)), (y0 + 1, x0 + 1, (1 - wx) * (1 - wy))):
                    if 0 <= yy < H and 0 <= xx < W:
                        out[b, i, j] += w * img[b, yy, xx]
    return out


@pytest.mark.parametrize("dtype", DTYPES)
def test_bilinear_sampler(lua, dtype):
    rng = np.random.default_rng(2)
    img = rng.random((2, 5, 6, 3))
    grid = rng.uniform(-1.3, 1.3, (2, 4, 3, 2))                       # some points fall outside
    f = lua.eval(f"function(i, g) m = nn.BilinearSamplerBHWD():type('{TNAME[dtype]}'); "
                 "return m:forward({i, g}):clone() end")
    out = f(img.astype(dtype), grid.astype(dtype))
    ref = sample_ref(img.astype(dtype).astype(np.float64), grid.astype(dtype).astype(np.float64))
    np.testing.assert_allclose(out, ref, **tol(dtype))
    np.testing.assert_allclose(f(img[0].astype(dtype), grid[0].astype(dtype)), ref[0], **tol(dtype))
    with pytest.raises(st.LuaError, match=r"<nn.BilinearSamplerBHWD> expects images B x H x W x C and grids B x oH x oW x 2"):
        f(img.astype(dtype), grid[..., :1].astype(dtype))


def test_a_spatial_transformer_model_loads_without_require(lua, tmp_path):
    """A spatial transformer as stnbhwd's demo builds it, saved; a fresh load_model finds stn."""
    path = str(tmp_path / "stn.t7")
    lua.execute("torch.manualSeed(3)")
    lua.eval("""function(path)
       local loc = nn.Sequential():add(nn.View(-1):setNumInputDims(3)):add(nn.Linear(2 * 6 * 5, 6))
       loc.modules[2].weight:mul(0.1); loc.modules[2].bias:copy(torch.Tensor{1, 0.1, 0, -0.2, 1, 0})
       local grid = nn.Sequential():add(loc):add(nn.AffineTransformMatrixGenerator()):add(nn.AffineGridGeneratorBHWD(4, 3))
       local st = nn.Sequential()
          :add(nn.ConcatTable():add(nn.Transpose({2, 3}, {3, 4})):add(grid))
          :add(nn.BilinearSamplerBHWD())
          :add(nn.Transpose({3, 4}, {2, 3}))
       torch.save(path, st)
    end""")(path)
    x = np.random.default_rng(4).random((2, 2, 6, 5))
    out = load_model(path).forward(x)
    W = lua.eval(f"torch.load('{path}').modules[1].modules[2].modules[1].modules[2].weight")
    b = lua.eval(f"torch.load('{path}').modules[1].modules[2].modules[1].modules[2].bias")
    theta = (x.reshape(2, -1) @ W.T + b).reshape(2, 2, 3)
    ys, xs = np.linspace(-1, 1, 4), np.linspace(-1, 1, 3)
    base = np.stack(list(np.meshgrid(ys, xs, indexing="ij")) + [np.ones((4, 3))], axis=-1)
    grid = np.einsum("hwk,bjk->bhwj", base, theta)
    ref = sample_ref(x.transpose(0, 2, 3, 1), grid).transpose(0, 3, 1, 2)
    np.testing.assert_allclose(out, ref, rtol=1e-5, atol=1e-6)


def test_non_contiguous_inputs(lua):
    rng = np.random.default_rng(5)
    img, grid = rng.random((6, 7, 3)), rng.uniform(-1, 1, (4, 5, 2))
    f = lua.eval("function(i, g, t) local a, b = torch.Tensor(i), torch.Tensor(g); "
                 "if t then a = a:transpose(1, 2):contiguous():transpose(1, 2); "
                 "b = b:transpose(1, 2):contiguous():transpose(1, 2) end; "
                 "return nn.BilinearSamplerBHWD():forward({a, b}) end")
    np.testing.assert_array_equal(f(img, grid, True), f(img, grid, False))
    np.testing.assert_allclose(f(img, grid, False), sample_ref(img[None], grid[None])[0], rtol=1e-12)
    m = lua.eval("function(t) local v = torch.Tensor{{1, 0.1, 0}, {0.2, 1, 0.3}}; "
                 "if t then v = v:t():contiguous():t() end; return nn.AffineGridGeneratorBHWD(3, 4):forward(v) end")
    np.testing.assert_array_equal(m(True), m(False))
