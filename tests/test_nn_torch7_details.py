"""Details where nn must behave exactly as Torch7's: found by running torch/nn's test.lua."""
import numpy as np
import pytest

import sparktorch7 as st


@pytest.fixture(scope="module")
def lua():
    with st.LuaState() as state:
        state.require("nn")
        yield state


@pytest.mark.parametrize("build,image,target", [
    ("nn.SpatialFullConvolution(2, 3, 3, 3, 2, 2, 1, 1)", "torch.randn(2, 4, 4)", "torch.Tensor(8, 7)"),
    ("nn.VolumetricFullConvolution(2, 3, 3, 3, 3, 2, 2, 2)", "torch.randn(2, 3, 3, 3)", "torch.Tensor(3, 8, 7, 8)"),
])
def test_full_convolution_target_gradient_is_one_expanded_zero(lua, build, image, target):
    lua.execute(f"""
      m = {build}; x = {image}; t = {target}
      y = m:forward({{x, t}})
      g = m:backward({{x, t}}, y:clone():fill(1))""")
    # the output takes its size from the target
    y, t = lua.eval("y"), lua.eval("t")
    assert y.shape[1:] == t.shape[-(y.ndim - 1):]
    assert lua.eval("g[2]:storage():size()") == 1
    assert lua.eval("g[2]:storage()[1]") == 0
    assert lua.eval("g[2]:isSameSizeAs(t)") is True
    np.testing.assert_array_equal(lua.eval("g[2]:clone()"), np.zeros(t.shape))
