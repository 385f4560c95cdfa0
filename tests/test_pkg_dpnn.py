"""dpnn (`require 'dpnn'`): its modules against NumPy, float and double, and the
nn.Module extensions (sharedClone, toBatch/fromBatch), with save/load round trips."""
import numpy as np
import pytest

import sparktorch7 as st

DTYPES = [np.float32, np.float64]
TNAME = {np.float32: "torch.FloatTensor", np.float64: "torch.DoubleTensor"}


@pytest.fixture
def lua():
    state = st.LuaState()
    state.execute("require 'dpnn'")
    yield state
    state.close()


def run(lua, ctor, x, dtype):
    f = lua.eval(f"function(x) m = {ctor}; m:type('{TNAME[dtype]}'); m:evaluate(); return m:forward(x) end")
    return f(x.astype(dtype) if isinstance(x, np.ndarray) else x)


def reread(lua):
    lua.execute("local f = torch.MemoryFile(); f:binary(); f:writeObject(m); f:seek(1); m2 = f:readObject()")
    assert lua.eval("torch.type(m2) == torch.type(m)")


@pytest.mark.parametrize("dtype", DTYPES)
def test_collapse_constant_convert(lua, dtype):
    x = np.random.default_rng(0).standard_normal((2, 3, 4))
    np.testing.assert_array_equal(run(lua, "nn.Collapse(2)", x, dtype), x.astype(dtype).reshape(2, 12))
    np.testing.assert_array_equal(run(lua, "nn.Collapse(2)", x[0], dtype), x[0].astype(dtype).reshape(12))
    reread(lua)
    out = run(lua, "nn.Constant(torch.Tensor({1.5, -2}), 1)", x[:, 0], dtype)
    np.testing.assert_array_equal(out, np.array([[1.5, -2], [1.5, -2]], dtype=dtype))
    np.testing.assert_array_equal(run(lua, "nn.Constant(3, 1)", x[0, 0], dtype), [3])
    reread(lua)
    img = np.random.default_rng(1).standard_normal((2, 3, 4, 5))
    np.testing.assert_array_equal(run(lua, "nn.Convert('bchw', 'bhwc')", img, dtype),
                                  img.astype(dtype).transpose(0, 2, 3, 1))
    np.testing.assert_array_equal(run(lua, "nn.Convert('bchw', 'bf')", img, dtype), img.astype(dtype).reshape(2, -1))
    np.testing.assert_array_equal(run(lua, "nn.Convert('chw', 'hwc')", img[0], dtype),
                                  img[0].astype(dtype).transpose(1, 2, 0))
    reread(lua)
    assert lua.eval("torch.type(m2.modules[1])") == "nn.Transpose"


@pytest.mark.parametrize("dtype", DTYPES)
def test_tables_serial_dictionary_crop(lua, dtype):
    a, b = np.ones((2, 2)), np.zeros((2, 2))
    out = lua.eval("function(a, b, c) local m = nn.ReverseTable(); return m:forward({a, b, c}) end")(a, b, a * 2)
    np.testing.assert_array_equal(out[1], a * 2)
    np.testing.assert_array_equal(out[3], a)
    out = lua.eval("function(a, b) return nn.ZipTable():forward({{a, b}, {b, a}}) end")(a, b)
    np.testing.assert_array_equal(out[1][2], b)
    np.testing.assert_array_equal(out[2][1], b)
    x = np.random.default_rng(2).standard_normal((4, 3))
    f = lua.eval(f"function(x) torch.manualSeed(0); m = nn.Serial(nn.Linear(3, 2)); m:type('{TNAME[dtype]}'); "
                 "m:mediumSerial(); return m:forward(x):clone() end")
    out = f(x.astype(dtype))
    W, bias = lua.eval("m.modules[1].weight").astype(np.float64), lua.eval("m.modules[1].bias").astype(np.float64)
    np.testing.assert_allclose(out, x.astype(dtype).astype(np.float64) @ W.T + bias, rtol=1e-5)
    reread(lua)
    # mediumSerial writes output empty; the live module keeps it
    assert lua.eval("m2.modules[1].output:nElement()") == 0 and lua.eval("m.modules[1].output:nElement()") == 8
    idx = np.array([3, 1, 2], dtype=np.float64)
    lua.execute("torch.manualSeed(0)")
    out = lua.eval(f"function(i) m = nn.Dictionary(5, 4); m:type('{TNAME[dtype]}'); return m:forward(i) end")(idx)
    np.testing.assert_array_equal(out, lua.eval("m.weight")[[2, 0, 1]])
    img = np.random.default_rng(3).standard_normal((2, 3, 6, 7))
    out = run(lua, "nn.SpatialUniformCrop(4, 3)", img, dtype)
    np.testing.assert_array_equal(out, img.astype(dtype)[:, :, 0:4, 1:4])
    np.testing.assert_array_equal(run(lua, "nn.SpatialUniformCrop(4, 3)", img[0], dtype), img.astype(dtype)[0, :, 0:4, 1:4])
    lua.execute("m:training()")
    out = lua.eval("function(x) return m:forward(x) end")(img.astype(dtype))
    for i in range(2):
        h, w = lua.eval(f"m.coord[{i + 1}][1]"), lua.eval(f"m.coord[{i + 1}][2]")
        np.testing.assert_array_equal(out[i], img.astype(dtype)[i, :, h - 1:h + 3, w - 1:w + 2])


def test_sharedclone_and_batch_helpers(lua):
    lua.execute("torch.manualSeed(0); m = nn.Sequential():add(nn.Linear(3, 2)):add(nn.Tanh()); "
                "c = m:sharedClone(); c:forward(torch.randn(4, 3))")
    assert lua.eval("torch.pointer(c.modules[1].weight:storage()) == torch.pointer(m.modules[1].weight:storage())")
    assert lua.eval("c.modules[1].output ~= m.modules[1].output and m.modules[1].output:nElement() == 0")
    lua.execute("m.modules[1].weight:fill(0.5)")
    assert lua.eval("c.modules[1].weight[1][1]") == 0.5
    lua.execute("c2 = m:sharedClone(false)")
    assert lua.eval("torch.pointer(c2.modules[1].weight:storage()) ~= torch.pointer(m.modules[1].weight:storage())")
    assert lua.eval("nn.Module():toBatch(torch.zeros(3, 4), 2):dim()") == 3
    assert lua.eval("(function() local m = nn.Module(); local t = m:toBatch(torch.zeros(3, 4), 2); "
                    "return m:fromBatch(t, 1):dim() end)()") == 2
    with pytest.raises(st.LuaError, match="<nn.Constant> expects a number or a tensor"):
        lua.execute("nn.Constant('x')")
    with pytest.raises(st.LuaError, match=r"<nn.SpatialUniformCrop> input is 2 x 2, smaller than the 4 x 3 crop"):
        lua.execute("nn.SpatialUniformCrop(4, 3):forward(torch.zeros(1, 2, 2))")


def glimpse_ref(img, loc, size, depth, scale):
    """dpnn's SpatialGlimpse for scale 2: padded crops, average-pooled to size."""
    N, C, H, W = img.shape
    out = np.zeros((N, depth, C, size, size))
    for s in range(N):
        y, x = (loc[s, 0] + 1) / 2, (loc[s, 1] + 1) / 2
        g = size
        for d in range(depth):
            if d > 0:
                g = int(g * scale)
            pad = (g - 1) // 2
            p = np.zeros((C, H + 2 * pad, W + 2 * pad))
            p[:, pad:pad + H, pad:pad + W] = img[s]
            h, w = p.shape[1] - g, p.shape[2] - g
            yy, xx = int(np.floor(min(h, max(0, y * h)))), int(np.floor(min(w, max(0, x * w))))
            crop = p[:, yy:yy + g, xx:xx + g]
            k = g // size
            out[s, d] = crop.reshape(C, size, k, size, k).mean(axis=(2, 4))
    return out.reshape(N, depth * C, size, size)


@pytest.mark.parametrize("dtype", DTYPES)
def test_spatial_glimpse(lua, dtype):
    r = np.random.default_rng(4)
    img, loc = r.standard_normal((2, 3, 16, 12)), np.array([[0.0, 0.0], [-1.0, 0.7]])
    f = lua.eval(f"function(x, l) m = nn.SpatialGlimpse(4, 3, 2); m:type('{TNAME[dtype]}'); "
                 "return m:forward({x, l}) end")
    out = f(img.astype(dtype), loc.astype(dtype))
    ref = glimpse_ref(img.astype(dtype).astype(np.float64), loc.astype(dtype).astype(np.float64), 4, 3, 2)
    np.testing.assert_allclose(out, ref, rtol=1e-5, atol=1e-6)
    one = f(img[1].astype(dtype), loc[1].astype(dtype))
    np.testing.assert_allclose(one, ref[1], rtol=1e-5, atol=1e-6)
    reread(lua)


@pytest.mark.parametrize("dtype", DTYPES)
def test_reinforce_modules_evaluate_to_the_mean_and_sample_in_training(lua, dtype):
    p = np.array([[0.2, 0.8], [1.0, 0.0], [0.5, 0.5]])
    for cls in ("ReinforceNormal(0.1)", "ReinforceCategorical()", "ReinforceBernoulli()", "ReinforceGamma(2)"):
        out = run(lua, f"nn.{cls}", p, dtype)
        want = p * 2 if "Gamma" in cls else p
        np.testing.assert_allclose(out, want.astype(dtype), rtol=1e-6)
        reread(lua)
    lua.execute("torch.manualSeed(1)")
    f = lua.eval(f"function(x) local m = nn.ReinforceCategorical(); m:type('{TNAME[dtype]}'); return m:forward(x) end")
    out = f(p.astype(dtype))
    assert (out.sum(1) == 1).all() and out[1, 0] == 1 and ((out == 0) | (out == 1)).all()
    f = lua.eval(f"function(x) local m = nn.ReinforceBernoulli(); m:type('{TNAME[dtype]}'); return m:forward(x) end")
    out = f(p.astype(dtype))
    assert out[1, 0] == 1 and out[1, 1] == 0 and ((out == 0) | (out == 1)).all()
    f = lua.eval(f"function(x) local m = nn.ReinforceNormal(1e-3); m:type('{TNAME[dtype]}'); return m:forward(x) end")
    out = f(p.astype(dtype))
    assert 0 < np.abs(out - p).max() < 1e-2
    f = lua.eval(f"function(x) local m = nn.ReinforceGamma(2); m:type('{TNAME[dtype]}'); return m:forward(x) end")
    out = f(np.ones((2, 2), dtype=dtype))
    assert out.dtype == dtype and (out > 0).all() and len(np.unique(out)) == 4
    with pytest.raises(st.LuaError, match=r"<nn.ReinforceGamma> shape must be > 0, got 0"):
        lua.execute("nn.ReinforceGamma(2):forward(torch.zeros(2, 2))")


@pytest.mark.parametrize("dtype", DTYPES)
def test_small_dpnn_modules(lua, dtype):
    r = np.random.default_rng(5)
    x = r.standard_normal((3, 4))
    np.testing.assert_array_equal(run(lua, "nn.ArgMax(1, 1)", x, np.float64), x.argmax(1) + 1)
    np.testing.assert_array_equal(run(lua, "nn.ArgMax(1, 1)", x[0], np.float64), [x[0].argmax() + 1])
    np.testing.assert_array_equal(run(lua, "nn.Clip(-0.5, 0.5)", x, dtype), np.clip(x.astype(dtype), -0.5, 0.5))
    np.testing.assert_array_equal(run(lua, "nn.TotalDropout(0.5)", x, dtype), x.astype(dtype))
    np.testing.assert_array_equal(run(lua, "nn.SpatialRegionDropout(0.5)", x[None], dtype), x[None].astype(dtype))
    img = r.standard_normal((2, 3, 4, 4))
    f = lua.eval(f"function(x) m = nn.SpatialFeatNormalization(torch.Tensor({{1, 2, 3}}), torch.Tensor({{2, 4, 8}})); "
                 f"m:type('{TNAME[dtype]}'); return m:forward(x) end")
    mean, std = np.array([1, 2, 3.0])[None, :, None, None], np.array([2, 4, 8.0])[None, :, None, None]
    np.testing.assert_allclose(f(img.astype(dtype)), (img.astype(dtype) - mean) / std, rtol=1e-6)
    np.testing.assert_allclose(f(img[0].astype(dtype)), ((img.astype(dtype) - mean) / std)[0], rtol=1e-6)
    reread(lua)
    # FireModule: squeeze 1x1 + ReLU, then [1x1, 3x3 padded] + ReLU concatenated
    f = lua.eval(f"function(x) torch.manualSeed(2); m = nn.FireModule(3, 2, 2, 3); m:type('{TNAME[dtype]}'); "
                 "return m:forward(x) end")
    out = f(img.astype(dtype))
    W1, b1 = lua.eval("m.squeeze.weight").astype(np.float64), lua.eval("m.squeeze.bias").astype(np.float64)
    We, be = lua.eval("m.expand.modules[1].weight").astype(np.float64), lua.eval("m.expand.modules[1].bias").astype(np.float64)
    W3, b3 = lua.eval("m.expand.modules[2].weight").astype(np.float64), lua.eval("m.expand.modules[2].bias").astype(np.float64)
    xi = img.astype(dtype).astype(np.float64)
    s = np.maximum(np.einsum("oc,nchw->nohw", W1[:, :, 0, 0], xi) + b1[None, :, None, None], 0)
    e1 = np.einsum("oc,nchw->nohw", We[:, :, 0, 0], s) + be[None, :, None, None]
    sp = np.pad(s, ((0, 0), (0, 0), (1, 1), (1, 1)))
    e3 = sum(np.einsum("oc,nchw->nohw", W3[:, :, i, j], sp[:, :, i:i + 4, j:j + 4]) for i in range(3) for j in range(3))
    e3 = e3 + b3[None, :, None, None]
    np.testing.assert_allclose(out, np.maximum(np.concatenate([e1, e3], 1), 0), rtol=1e-4, atol=1e-5)
    reread(lua)


def test_reward_criteria(lua):
    scores = np.array([[0.2, 0.8], [1.0, 0.0], [0.1, 0.9]])
    f = lua.eval("function(x, t, s) return nn.VRClassReward(nn.Identity(), s):forward({x, x}, t) end")
    assert f(scores, np.array([2.0, 2, 2]), 1) == pytest.approx(-2 / 3)
    assert f(scores, np.array([2.0, 1, 2]), 3) == pytest.approx(-3.0)
    g = lua.eval("function(p, t) return nn.BinaryClassReward(nn.Identity()):forward({p, p}, t) end")
    assert g(np.array([0.9, 0.2, 0.7]), np.array([1.0, 1, 0])) == pytest.approx(-1 / 3)
    with pytest.raises(st.LuaError, match=r"<nn.VRClassReward> target must hold 3 class indices"):
        f(scores, np.array([1.0]), 1)


@pytest.mark.parametrize("dtype", DTYPES)
def test_inception_built_from_config(lua, dtype):
    x = np.random.default_rng(6).standard_normal((2, 3, 8, 8))
    f = lua.eval(f"""function(x)
      torch.manualSeed(0)
      m = nn.Inception{{inputSize = 3, outputSize = {{4, 5}}, reduceSize = {{2, 2, 3, 2}}}}
      m:type('{TNAME[dtype]}')
      local y = m:forward(x):clone()
      local one = m:forward(x[1]):clone()
      local towers = {{}}
      for i, t in ipairs(m.modules[1].modules) do towers[i] = t:forward(x):clone() end
      return y, one, towers
    end""")
    y, one, towers = f(x.astype(dtype))
    assert y.shape == (2, 14, 8, 8)
    np.testing.assert_allclose(one, y[0], rtol=1e-5, atol=1e-6)
    # DepthConcat centres the smaller pooling tower (6x6) in zeros
    parts = []
    for k in sorted(towers):
        t = towers[k]
        pad = (8 - t.shape[2]) // 2
        parts.append(np.pad(t, ((0, 0), (0, 0), (pad, 8 - t.shape[2] - pad), (pad, 8 - t.shape[3] - pad))))
    np.testing.assert_array_equal(y, np.concatenate(parts, axis=1))
    assert lua.eval("torch.type(m.modules[1].modules[3].modules[1])") == "nn.SpatialMaxPooling"
    reread(lua)
    with pytest.raises(st.LuaError, match="<nn.Inception> expects a config table"):
        lua.execute("nn.Inception({inputSize = 3})")


def test_printsize_passes_its_input(lua):
    x = np.arange(6.0).reshape(2, 3)
    out = lua.eval("function(x) m = nn.PrintSize('here'); return m:forward(x) end")(x)
    np.testing.assert_array_equal(out, x)
    assert lua.eval("m.output == m.output and m.prefix") == "here"
