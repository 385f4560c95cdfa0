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


SPARSE_DOT = """
  local S, parent = torch.class('nn.TestSparseSquares', 'nn.Module')
  -- y = sum_i w[index_i] * value_i^2 over the (index, value) rows of x
  function S:__init(n, factor)
    parent.__init(self)
    self.weight, self.gradWeight, self.factor = torch.randn(n), torch.zeros(n), factor or 2
  end
  function S:updateOutput(x)
    local y = 0
    for i = 1, x:size(1) do y = y + self.weight[x[i][1]] * x[i][2] ^ 2 end
    self.output = torch.Tensor({y})
    return self.output
  end
  function S:updateGradInput(x, go)
    self.gradInput = x:clone():zero()
    for i = 1, x:size(1) do
      self.gradInput[i][2] = go[1] * self.factor * x[i][2] * self.weight[x[i][1]]
    end
    return self.gradInput
  end
  function S:accGradParameters(x, go, scale)
    for i = 1, x:size(1) do
      local k = x[i][1]
      self.gradWeight[k] = self.gradWeight[k] + (scale or 1) * go[1] * x[i][2] ^ 2
    end
  end
"""


def test_sparse_jacobian_checks_the_values_of_sparse_input(lua):
    lua.execute(SPARSE_DOT)
    lua.execute("""
      m = nn.TestSparseSquares(6)
      x = torch.Tensor({{2, 0.5}, {5, -1}, {6, 2}})
      err = nn.SparseJacobian.testJacobian(m, x)
      errw = nn.SparseJacobian.testJacobianParameters(m, x, m.weight, m.gradWeight)
      jb = nn.SparseJacobian.backward(m, x)
      bad = nn.SparseJacobian.testJacobian(nn.TestSparseSquares(6, 3), x:clone())""")
    x, w = lua.eval("x"), lua.eval("m.weight")
    idx = x[:, 0].astype(int) - 1
    np.testing.assert_allclose(lua.eval("jb")[:, 0], 2 * x[:, 1] * w[idx], rtol=1e-12)
    assert lua.eval("err") < 1e-6 and lua.eval("errw") < 1e-6
    assert lua.eval("bad") > 0.1            # a wrong gradient is caught
    # only the values column was randomised: the indices stay
    np.testing.assert_array_equal(x[:, 0], [2, 5, 6])
