"""inn (`require 'inn'`): each module against a NumPy reference, float and double,
batch and single image, and a save/load round trip."""
import math

import numpy as np
import pytest

import sparktorch7 as st

DTYPES = [np.float32, np.float64]
TNAME = {np.float32: "torch.FloatTensor", np.float64: "torch.DoubleTensor"}


def tol(dtype):
    return dict(rtol=2e-5, atol=2e-6) if dtype == np.float32 else dict(rtol=1e-11, atol=1e-12)


@pytest.fixture
def lua():
    state = st.LuaState()
    state.execute("require 'inn'")
    yield state
    state.close()


def fwd(lua, ctor, x, dtype):
    f = lua.eval(f"function(x) m = {ctor}; m:type('{TNAME[dtype]}'); return m:forward(x) end")
    cast = [v.astype(dtype) if v.dtype.kind == "f" else v for v in x] if isinstance(x, list) else x.astype(dtype)
    out = f(cast)
    return out.astype(np.float64).copy()


def roundtrip_same(lua, x):
    lua.execute("local f = torch.MemoryFile(); f:binary(); f:writeObject(m); f:seek(1); m2 = f:readObject()")
    f = lua.eval("function(x) local a = m:forward(x):clone(); return a, m2:forward(x) end")
    a, b = f(x)
    np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("dtype", DTYPES)
def test_same_response_normalization(lua, dtype):
    x = np.random.default_rng(0).standard_normal((2, 3, 6, 5))
    xc = x.astype(dtype).astype(np.float64)
    size, alpha, beta = 3, 0.5, 0.75
    pad = np.pad(xc ** 2, ((0, 0), (0, 0), (1, 1), (1, 1)))
    avg = sum(pad[:, :, i:i + 6, j:j + 5] for i in range(3) for j in range(3)) / 9
    ref = xc / (1 + alpha * avg) ** beta
    np.testing.assert_allclose(fwd(lua, f"inn.SpatialSameResponseNormalization({size}, {alpha}, {beta})", x, dtype),
                               ref, **tol(dtype))
    np.testing.assert_allclose(fwd(lua, f"inn.SpatialSameResponseNormalization({size}, {alpha}, {beta})", x[0],
                                   dtype), ref[0], **tol(dtype))
    roundtrip_same(lua, x.astype(dtype))


@pytest.mark.parametrize("dtype", DTYPES)
def test_cross_response_normalization(lua, dtype):
    x = np.random.default_rng(1).standard_normal((2, 6, 4, 4))
    xc = x.astype(dtype).astype(np.float64)
    size, alpha, beta, k = 5, 1e-2, 0.75, 2.0
    sq = np.pad(xc ** 2, ((0, 0), (2, 2), (0, 0), (0, 0)))
    s = sum(sq[:, i:i + 6] for i in range(5))
    ref = xc * (k + alpha / size * s) ** -beta
    out = fwd(lua, f"inn.SpatialCrossResponseNormalization({size}, {alpha}, {beta}, {k})", x, dtype)
    np.testing.assert_allclose(out, ref, **tol(dtype))
    np.testing.assert_allclose(fwd(lua, f"inn.SpatialCrossResponseNormalization({size}, {alpha}, {beta}, {k})",
                                   x[1], dtype), ref[1], **tol(dtype))


@pytest.mark.parametrize("dtype", DTYPES)
def test_mean_subtraction_and_pyramid_pooling(lua, dtype):
    r = np.random.default_rng(2)
    x, mean = r.standard_normal((2, 3, 5, 4)), r.standard_normal((3, 5, 4))
    f = lua.eval(f"function(x, mean) m = inn.MeanSubtraction(mean); m:type('{TNAME[dtype]}'); return m:forward(x) end")
    xc, mc = x.astype(dtype).astype(np.float64), mean.astype(dtype).astype(np.float64)
    np.testing.assert_allclose(f(x.astype(dtype), mean.astype(dtype)), xc - mc, **tol(dtype))
    np.testing.assert_allclose(f(x[0].astype(dtype), mean.astype(dtype)), xc[0] - mc, **tol(dtype))
    out = fwd(lua, "inn.SpatialPyramidPooling({1, 1}, {2, 2})", x, dtype)
    whole = xc.max(axis=(2, 3))
    # 2x2 adaptive bins of a 5x4 map: rows [0,3) [2,5), cols [0,2) [2,4)
    bins = [xc[:, :, a:b, c:d].max(axis=(2, 3)) for a, b in ((0, 3), (2, 5)) for c, d in ((0, 2), (2, 4))]
    ref = np.concatenate([whole, np.stack(bins, axis=2).reshape(2, -1)], axis=1)
    np.testing.assert_allclose(out, ref, **tol(dtype))
    np.testing.assert_allclose(fwd(lua, "inn.SpatialPyramidPooling({1, 1}, {2, 2})", x[1], dtype), ref[1],
                               **tol(dtype))
    roundtrip_same(lua, x.astype(dtype))


def roi_ref(data, rois, W, H, scale, v2):
    def cr(v):
        return int(math.floor(abs(v) + 0.5)) * (1 if v >= 0 else -1)
    R, C = rois.shape[0], data.shape[1]
    h, w = data.shape[2:]
    out = np.zeros((R, C, H, W))
    for n, (b, x1, y1, x2, y2) in enumerate(rois):
        sw, sh = cr((x1 - 1) * scale), cr((y1 - 1) * scale)
        ew, eh = cr((x2 - 1) * scale) - v2, cr((y2 - 1) * scale) - v2
        rw, rh = max(ew - sw + 1, 1), max(eh - sh + 1, 1)
        for ph in range(H):
            for pw in range(W):
                if v2:
                    hs, he = cr(ph * rh / H), cr((ph + 1) * rh / H)
                    ws, we = cr(pw * rw / W), cr((pw + 1) * rw / W)
                else:
                    hs, he = math.floor(ph * rh / H), math.ceil((ph + 1) * rh / H)
                    ws, we = math.floor(pw * rw / W), math.ceil((pw + 1) * rw / W)
                hs, he = min(max(hs + sh, 0), h), min(max(he + sh, 0), h)
                ws, we = min(max(ws + sw, 0), w), min(max(we + sw, 0), w)
                if he > hs and we > ws:
                    out[n, :, ph, pw] = data[int(b) - 1, :, hs:he, ws:we].max(axis=(1, 2))
    return out


@pytest.mark.parametrize("v2", [True, False])
@pytest.mark.parametrize("dtype", DTYPES)
def test_roi_pooling(lua, dtype, v2):
    r = np.random.default_rng(3)
    data = r.standard_normal((2, 3, 8, 10))
    rois = np.array([[1, 1, 1, 10, 8], [2, 3, 2, 7, 6], [1, 4, 4, 4, 4], [2, 1, 3, 20, 20]], dtype=np.float64)
    f = lua.eval(f"function(d, r) m = inn.ROIPooling(3, 2, 1); m.v2 = {str(v2).lower()}; "
                 f"m:type('{TNAME[dtype]}'); return m:forward({{d, r}}) end")
    out = f(data.astype(dtype), rois.astype(dtype))
    np.testing.assert_allclose(out, roi_ref(data.astype(dtype).astype(np.float64), rois, 3, 2, 1.0, int(v2)),
                               **tol(dtype))
    f = lua.eval("function(d, r) return inn.ROIPooling(2, 2, 0.5):forward({d, r}) end")
    np.testing.assert_allclose(f(data, rois[:2]), roi_ref(data, rois[:2], 2, 2, 0.5, 1), rtol=1e-12)
    with pytest.raises(st.LuaError, match=r"<inn.ROIPooling> roi 1 has image index 3, the batch has 2 images"):
        f(data, np.array([[3, 1, 1, 2, 2.0]]))
    with pytest.raises(st.LuaError, match=r"<inn.ROIPooling> rois must be R x 5"):
        f(data, np.zeros((2, 4)))


@pytest.mark.parametrize("dtype", DTYPES)
def test_ceil_mode_pooling_and_const_affine(lua, dtype):
    x = np.random.default_rng(4).standard_normal((2, 3, 5, 5))
    xc = x.astype(dtype).astype(np.float64)
    # 2x2 stride 2 in ceil mode: a 3x3 output, the last window cut at the border
    out = fwd(lua, "inn.SpatialMaxPooling(2, 2, 2, 2)", x, dtype)
    ref = np.stack([np.stack([xc[:, :, 2 * i:2 * i + 2, 2 * j:2 * j + 2].max(axis=(2, 3)) for j in range(3)], -1)
                    for i in range(3)], -2)
    np.testing.assert_allclose(out, ref, **tol(dtype))
    out = fwd(lua, "inn.SpatialAveragePooling(2, 2, 2, 2)", x[0], dtype)
    assert out.shape == (3, 3, 3)
    np.testing.assert_allclose(out[:, :2, :2], xc[0, :, :4, :4].reshape(3, 2, 2, 2, 2).mean(axis=(2, 4)),
                               **tol(dtype))
    f = lua.eval(f"function(x) m = inn.ConstAffine(3); m.a:copy(torch.Tensor({{1, 2, 3}})); "
                 f"m.b:copy(torch.Tensor({{0, -1, 1}})); m:type('{TNAME[dtype]}'); return m:forward(x) end")
    np.testing.assert_allclose(f(x.astype(dtype)), xc * np.array([1, 2, 3.0])[None, :, None, None]
                               + np.array([0, -1, 1.0])[None, :, None, None], **tol(dtype))
    roundtrip_same(lua, x.astype(dtype))
