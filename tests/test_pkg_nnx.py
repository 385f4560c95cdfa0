"""nnx (`require 'nnx'`): the resampling and normalisation modules against NumPy
references written from nnx's C kernels, float and double, batch and single image,
and save/load round trips."""
import numpy as np
import pytest

import sparktorch7 as st

DTYPES = [np.float32, np.float64]
TNAME = {np.float32: "torch.FloatTensor", np.float64: "torch.DoubleTensor"}


def tol(dtype):
    return dict(rtol=1e-5, atol=1e-6) if dtype == np.float32 else dict(rtol=1e-6, atol=1e-7)


@pytest.fixture
def lua():
    state = st.LuaState()
    state.execute("require 'nnx'")
    yield state
    state.close()


def fwd(lua, ctor, x, dtype):
    f = lua.eval(f"function(x) m = {ctor}; m:type('{TNAME[dtype]}'); return m:forward(x) end")
    return f(x.astype(dtype)).astype(np.float64).copy()


def roundtrip(lua, x, dtype):
    lua.execute("local f = torch.MemoryFile(); f:binary(); f:writeObject(m); f:seek(1); m2 = f:readObject()")
    a, b = lua.eval("function(x) local a = m:forward(x):clone(); return a, m2:forward(x) end")(x.astype(dtype))
    np.testing.assert_array_equal(a, b)


def bilinear(img, oH, oW):
    """Corner-aligned bilinear resampling of the last two axes (nnx's formula)."""
    iH, iW = img.shape[-2:]
    out = np.zeros(img.shape[:-2] + (oH, oW))
    for y in range(oH):
        for x in range(oW):
            # nnx computes positions and weights in float32
            f = np.float32
            iy = f(iH - 1) / f(oH - 1) * f(y) if oH > 1 else f(0)
            ix = f(iW - 1) / f(oW - 1) * f(x) if oW > 1 else f(0)
            y0, x0 = int(np.floor(iy)), int(np.floor(ix))
            y1, x1 = min(y0 + 1, iH - 1), min(x0 + 1, iW - 1)
            dy, dx = float(iy - f(y0)), float(ix - f(x0))
            out[..., y, x] = (img[..., y0, x0] * (1 - dx) * (1 - dy) + img[..., y0, x1] * dx * (1 - dy)
                              + img[..., y1, x0] * (1 - dx) * dy + img[..., y1, x1] * dx * dy)
    return out


@pytest.mark.parametrize("dtype", DTYPES)
def test_resampling(lua, dtype):
    x = np.random.default_rng(0).standard_normal((2, 3, 5, 6))
    xc = x.astype(dtype).astype(np.float64)
    ref = bilinear(xc, 7, 9)
    np.testing.assert_allclose(fwd(lua, "nn.SpatialReSampling{owidth = 9, oheight = 7}", x, dtype), ref, **tol(dtype))
    np.testing.assert_allclose(fwd(lua, "nn.SpatialReSampling{owidth = 9, oheight = 7}", x[0], dtype), ref[0],
                               **tol(dtype))
    np.testing.assert_allclose(fwd(lua, "nn.SpatialReSampling{rwidth = 2, rheight = 2}", x[0], dtype),
                               bilinear(xc[0], 10, 12), **tol(dtype))
    roundtrip(lua, x[0], dtype)
    # corners are the input's corners
    out = fwd(lua, "nn.SpatialReSampling{owidth = 4, oheight = 3}", x[0], dtype)
    np.testing.assert_allclose(out[:, [0, -1]][:, :, [0, -1]], xc[0][:, [0, -1]][:, :, [0, -1]], **tol(dtype))


@pytest.mark.parametrize("dtype", DTYPES)
def test_down_up_and_ex(lua, dtype):
    x = np.random.default_rng(1).standard_normal((3, 7, 9))
    xc = x.astype(dtype).astype(np.float64)
    down = xc[:, :6, :8].reshape(3, 3, 2, 4, 2).mean(axis=(2, 4))
    np.testing.assert_allclose(fwd(lua, "nn.SpatialDownSampling(2, 2)", x, dtype), down, **tol(dtype))
    np.testing.assert_allclose(fwd(lua, "nn.SpatialDownSampling{rW = 3, rH = 2}", x, dtype),
                               xc[:, :6, :9].reshape(3, 3, 2, 3, 3).mean(axis=(2, 4)), **tol(dtype))
    roundtrip(lua, x, dtype)
    up = np.repeat(np.repeat(xc, 3, axis=1), 2, axis=2)
    np.testing.assert_array_equal(fwd(lua, "nn.SpatialUpSampling(2, 3)", x, dtype), up)
    # yDim/xDim: the spatial axes of a batch are 3 and 4
    xb = np.random.default_rng(2).standard_normal((2, 3, 4, 5))
    np.testing.assert_array_equal(fwd(lua, "nn.SpatialUpSampling{dW = 2, dH = 2, yDim = 3, xDim = 4}", xb, dtype),
                                  np.repeat(np.repeat(xb.astype(dtype), 2, axis=2), 2, axis=3))
    roundtrip(lua, xb, dtype)
    ex = "nn.SpatialReSamplingEx{owidth = 4, oheight = 3, mode = '%s'}"
    np.testing.assert_allclose(fwd(lua, ex % "average", x, dtype), xc[:, :6, :8].reshape(3, 3, 2, 4, 2).mean((2, 4)),
                               **tol(dtype))
    np.testing.assert_array_equal(fwd(lua, ex % "simple", x, dtype), x.astype(dtype)[:, ::2, ::2][:, :3, :4])
    np.testing.assert_allclose(fwd(lua, ex % "bilinear", x, dtype), bilinear(xc, 3, 4), **tol(dtype))
    np.testing.assert_array_equal(fwd(lua, "nn.SpatialReSamplingEx{rwidth = 2, rheight = 2}", x, dtype),
                                  np.repeat(np.repeat(x.astype(dtype), 2, axis=1), 2, axis=2))
    with pytest.raises(st.LuaError, match="cannot upsample one dimension while downsampling the other"):
        fwd(lua, "nn.SpatialReSamplingEx{owidth = 20, oheight = 3}", x, dtype)
    with pytest.raises(st.LuaError, match=r"<nn.SpatialDownSampling> missing argument rH"):
        lua.execute("nn.SpatialDownSampling(2)")


@pytest.mark.parametrize("dtype", DTYPES)
def test_spatial_normalization(lua, dtype):
    x = np.random.default_rng(3).standard_normal((2, 6, 7))
    xc = x.astype(dtype).astype(np.float64)
    k = np.array([[1.0, 2, 1], [2, 4, 2], [1, 2, 1]])
    kn = k / k.sum()

    def local(v):
        # per-plane kernel-weighted sums over a zero-padded 3x3 window, summed over planes
        p = np.pad(v, ((0, 0), (1, 1), (1, 1)))
        s = sum(kn[i, j] * p[:, i:i + 6, j:j + 7] for i in range(3) for j in range(3)).sum(0)
        return np.broadcast_to(s, v.shape)

    coef = local(np.ones_like(xc))
    zm = xc - local(xc) / coef
    std = np.sqrt(local(zm ** 2)) / coef
    th = max(std.mean(), 1e-3)
    ref = zm / np.where(std > th, std, th)
    f = lua.eval(f"function(x, k) m = nn.SpatialNormalization(2, k); m:type('{TNAME[dtype]}'); return m:forward(x) end")
    np.testing.assert_allclose(f(x.astype(dtype), k), ref, **(tol(dtype) if dtype == np.float64 else
                                                               dict(rtol=1e-4, atol=1e-5)))
    roundtrip(lua, x, dtype)
    with pytest.raises(st.LuaError, match=r"<nn.SpatialNormalization> input has 3 planes, the module 2"):
        lua.eval("function(x) return m:forward(x) end")(np.zeros((3, 4, 4), dtype=dtype))


@pytest.mark.parametrize("dtype", DTYPES)
def test_spatial_padding(lua, dtype):
    x = np.random.default_rng(5).standard_normal((2, 4, 5))
    out = fwd(lua, "nn.SpatialPadding(1, 2, -1, 0, 2, 3, 7)", x, dtype)
    ref = np.full((2, 3, 8), 7.0)
    ref[:, :, 1:6] = x.astype(dtype)[:, 1:, :]
    np.testing.assert_array_equal(out, ref)
    roundtrip(lua, x, dtype)
    with pytest.raises(st.LuaError, match=r"<nn.SpatialPadding> expects the left padding"):
        lua.execute("nn.SpatialPadding()")
