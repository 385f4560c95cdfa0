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
