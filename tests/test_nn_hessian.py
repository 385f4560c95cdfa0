"""nn.hessian: the diag-Hessian pass (Torch7's hessian.lua), checked against NumPy and against
nn.Jacobian's estimate from first derivatives."""
import numpy as np
import pytest

import sparktorch7 as st


@pytest.fixture(scope="module")
def lua():
    with st.LuaState() as state:
        state.require("nn")
        state.execute("torch.manualSeed(7); nn.hessian.enable()")
        yield state


def test_linear_diag_hessian_equals_numpy(lua):
    # F = sum(y^2)/2, y = W x + b: d2F/dx_i2 = sum_k W_ki^2, d2F/dW_ki2 = sum_n x_ni^2,
    # d2F/db_k2 = number of samples
    lua.execute("""
      m = nn.Linear(5, 3); x = torch.randn(4, 5)
      m:initDiagHessianParameters()
      m:forward(x)
      local ones = m.output.new():resizeAs(m.output):fill(1)
      m.diagHessianWeight:zero(); m.diagHessianBias:zero()
      dhi = m:updateDiagHessianInput(x, ones):clone()
      m:accDiagHessianParameters(x, ones)""")
    w, x = lua.eval("m.weight"), lua.eval("x")
    np.testing.assert_allclose(lua.eval("dhi"), np.tile((w ** 2).sum(0), (4, 1)), rtol=1e-12)
    np.testing.assert_allclose(lua.eval("m.diagHessianWeight"), np.tile((x ** 2).sum(0), (3, 1)), rtol=1e-12)
    np.testing.assert_allclose(lua.eval("m.diagHessianBias"), np.full(3, 4.0), rtol=1e-12)
    # the module's own state is as before the pass: output of x, weights not squared
    np.testing.assert_allclose(lua.eval("m.output"), x @ w.T + lua.eval("m.bias"), rtol=1e-12)
    np.testing.assert_allclose(lua.eval("m.gradInput:nElement()"), 0)


@pytest.mark.parametrize("build,input", [
    ("nn.Linear(6, 4)", "torch.Tensor(3, 6)"),
    ("nn.SpatialConvolution(2, 3, 3, 3)", "torch.Tensor(2, 6, 5)"),
    ("nn.SpatialConvolutionMap(nn.tables.random(2, 3, 1), 3, 3)", "torch.Tensor(2, 6, 5)"),
])
def test_pass_agrees_with_jacobian_estimate(lua, build, input):
    lua.execute(f"m = {build}; x = {input}")
    for which in ("Input", "Weight", "Bias"):
        err = lua.eval(f"nn.Jacobian.testDiagHessian{which}(m, x)")
        assert err < 1e-8, (which, err)


def test_sequential_with_tanh_chains_squares(lua):
    # Linear -> Tanh under F: d2F/dh2 = tanh'(h)^2, d2F/dx_i2 = sum_k W_ki^2 tanh'(h_k)^2
    lua.execute("""
      s = nn.Sequential():add(nn.Linear(4, 3)):add(nn.Tanh())
      s:initDiagHessianParameters()
      x = torch.randn(2, 4)
      s:forward(x)
      dhi = s:updateDiagHessianInput(x, torch.ones(2, 3)):clone()""")
    w, b, x = lua.eval("s.modules[1].weight"), lua.eval("s.modules[1].bias"), lua.eval("x")
    d = (1 - np.tanh(x @ w.T + b) ** 2) ** 2
    np.testing.assert_allclose(lua.eval("dhi"), d @ (w ** 2), rtol=1e-10)


def test_parameters_give_the_hessians_third(lua):
    lua.execute("""
      s = nn.Sequential():add(nn.Linear(2, 3)):add(nn.Tanh()):add(nn.Linear(3, 1))
      s:initDiagHessianParameters()
      w, gw, h = s:parameters()
      fp, fg, fh = s:getParameters()""")
    assert lua.eval("#h") == 4
    assert lua.eval("h[1] == s.modules[1].diagHessianWeight") is True
    assert lua.eval("fh:nElement()") == lua.eval("fp:nElement()") == 2 * 3 + 3 + 3 + 1


def test_mse_criterion_and_undefined_modules(lua):
    lua.execute("c = nn.MSECriterion(); d = c:updateDiagHessianInput(torch.randn(2, 5), torch.randn(2, 5))")
    np.testing.assert_allclose(lua.eval("d"), np.full((2, 5), 2 / 10))
    with pytest.raises(st.LuaError, match=r"<nn.ReLU> updateDiagHessianInput is not defined for this module"):
        lua.execute("nn.ReLU():updateDiagHessianInput(torch.randn(3), torch.ones(3))")
