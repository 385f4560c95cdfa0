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


def test_sparse_jacobian_checks_the_values_of_sparse_input(lua):
    # SparseLinear's output is linear in the values: d y_k / d v_i = W[k, index_i]
    lua.execute("""
      m = nn.SparseLinear(6, 3, true)
      x = torch.Tensor({{2, 0.5}, {5, -1}, {6, 2}})
      jf = nn.SparseJacobian.forward(m, x)
      jb = nn.SparseJacobian.backward(m, x)
      err = nn.SparseJacobian.testJacobian(m, x)
      errw = nn.SparseJacobian.testJacobianParameters(m, x, m.weight, m.gradWeight)""")
    w = lua.eval("m.weight")
    idx = lua.eval("x")[:, 0].astype(int) - 1
    np.testing.assert_allclose(lua.eval("jb"), w[:, idx].T, rtol=1e-12)
    np.testing.assert_allclose(lua.eval("jf"), w[:, idx].T, atol=1e-8)
    assert lua.eval("err") < 1e-8 and lua.eval("errw") < 1e-8
    # the indices are not touched: only the values column was perturbed and randomised
    np.testing.assert_array_equal(lua.eval("x")[:, 0], [2, 5, 6])
