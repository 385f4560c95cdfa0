"""Backward passes: gradients against finite differences (nn.Jacobian and an
independent NumPy check), parameter flattening, and SGD fine-tuning against NumPy."""
import numpy as np
import pytest

import sparktorch7 as st


@pytest.fixture
def nnlua():
    state = st.LuaState()
    state.execute("require 'nn'; require 'optim'; torch.setdefaulttensortype('torch.DoubleTensor'); torch.manualSeed(7)")
    yield state
    state.close()


@pytest.mark.parametrize("ctor,shape", [
    ("nn.Linear(5, 3)", "4, 5"), ("nn.Linear(5, 3)", "5"), ("nn.Tanh()", "3, 4"),
    ("nn.Sigmoid()", "6"), ("nn.ReLU()", "2, 5"), ("nn.Threshold(0.3, -1)", "9"),
    ("nn.Sequential():add(nn.Linear(4, 6)):add(nn.Tanh()):add(nn.Linear(6, 2)):add(nn.Sigmoid())", "3, 4"),
])
def test_jacobian_input(nnlua, ctor, shape):
    err = nnlua.eval(f"nn.Jacobian.testJacobian({ctor}, torch.Tensor({shape}))")
    assert err < 1e-6
    errf, errb = nnlua.eval(f"nn.Jacobian.testIO({ctor}, torch.rand({shape}))")
    assert errf == 0 and errb == 0


@pytest.mark.parametrize("param", ["weight", "bias"])
def test_jacobian_parameters(nnlua, param):
    g = "grad" + param[0].upper() + param[1:]
    errs = nnlua.eval(f"""(function()
        local m = nn.Linear(5, 3)
        local x = torch.Tensor(4, 5)
        return nn.Jacobian.testJacobianParameters(m, x, m.{param}, m.{g}),
               nn.Jacobian.testJacobianUpdateParameters(m, x, m.{param})
    end)()""")
    assert max(errs) < 1e-6


def test_wrong_backward_is_caught_by_jacobian(nnlua):
    # a module whose gradient is deliberately off must fail the check
    err = nnlua.eval("""(function()
        local m = nn.Tanh()
        function m:updateGradInput(input, gradOutput)
           self.gradInput = gradOutput:clone()
           return self.gradInput
        end
        return nn.Jacobian.testJacobian(m, torch.Tensor(5))
    end)()""")
    assert err > 1e-2


def test_mlp_gradients_against_numpy_finite_differences(nnlua):
    rng = np.random.default_rng(3)
    x, t = rng.standard_normal((6, 4)), rng.random((6, 2))
    f = nnlua.eval("""function(x, t)
        local m = nn.Sequential():add(nn.Linear(4, 5)):add(nn.ReLU()):add(nn.Linear(5, 2)):add(nn.Tanh())
        local c = nn.MSECriterion()
        local p, g = m:getParameters()
        g:zero()
        local y = m:forward(x)
        c:forward(y, t)
        local gi = m:backward(x, c:backward(y, t))
        local function loss(pv, xv)
           p:copy(pv)
           return c:forward(m:forward(xv), t)
        end
        return p:clone(), g:clone(), gi:clone(), loss
    end""")
    p, g, gi, loss = f(x, t)
    p0 = p.copy()
    h = 1e-6
    num = np.zeros_like(p)
    for i in range(p.size):
        e = np.zeros_like(p); e[i] = h
        num[i] = (loss(p0 + e, x) - loss(p0 - e, x)) / (2 * h)
    np.testing.assert_allclose(g, num, atol=1e-7)
    numx = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        e = np.zeros_like(x); e[i] = h
        numx[i] = (loss(p0, x + e) - loss(p0, x - e)) / (2 * h)
    np.testing.assert_allclose(gi, numx, atol=1e-7)


def test_sgd_fine_tuning_matches_numpy(nnlua):
    rng = np.random.default_rng(5)
    x, t = rng.standard_normal((8, 3)), rng.random((8, 2))
    run = nnlua.eval("""function(x, t, steps)
        local m = nn.Sequential():add(nn.Linear(3, 4)):add(nn.Tanh()):add(nn.Linear(4, 2))
        local W1, b1 = m.modules[1].weight:clone(), m.modules[1].bias:clone()
        local W2, b2 = m.modules[3].weight:clone(), m.modules[3].bias:clone()
        local c = nn.MSECriterion()
        local p, g = m:getParameters()
        local losses = {}
        local function feval(_)
           g:zero()
           local y = m:forward(x)
           local l = c:forward(y, t)
           m:backward(x, c:backward(y, t))
           return l, g
        end
        local cfg = {learningRate = 0.5}
        for i = 1, steps do
           local _, fs = optim.sgd(feval, p, cfg)
           losses[i] = fs[1]
        end
        return W1, b1, W2, b2, torch.Tensor(losses)
    end""")
    W1, b1, W2, b2, losses = run(x, t, 5)
    ref = []
    for _ in range(5):
        h = np.tanh(x @ W1.T + b1)
        y = h @ W2.T + b2
        ref.append(np.mean((y - t) ** 2))
        dy = 2 * (y - t) / y.size
        dW2, db2 = dy.T @ h, dy.sum(0)
        dh = (dy @ W2) * (1 - h ** 2)
        dW1, db1 = dh.T @ x, dh.sum(0)
        W1, b1, W2, b2 = W1 - 0.5 * dW1, b1 - 0.5 * db1, W2 - 0.5 * dW2, b2 - 0.5 * db2
    np.testing.assert_allclose(losses, ref, rtol=1e-10)
    assert losses[-1] < losses[0]


def test_get_parameters_keeps_sharing_and_compacts(nnlua):
    r = nnlua.eval("""(function()
        local a, b = nn.Linear(3, 2), nn.Linear(3, 2)
        b:share(a, 'weight', 'bias', 'gradWeight', 'gradBias')
        local m = nn.Sequential():add(a):add(b)
        local p, g = m:getParameters()
        p:fill(2)
        -- a view of half a storage: the unused elements are squeezed out
        local big = torch.Tensor(10):fill(1)
        local part = nn.Linear(1, 1)
        part.weight = big:narrow(1, 3, 1):view(1, 1)
        part.bias = torch.Tensor(1):fill(4)
        local p2 = part:getParameters()
        return p:nElement(), g:nElement(), a.weight[1][1], b.weight:storage() == a.weight:storage() and 1 or 0,
               p2:nElement(), p2[1], p2[2]
    end)()""")
    assert r == (8, 8, 2, 1, 2, 1, 4)


def test_get_parameters_mismatch_is_an_error(nnlua):
    with pytest.raises(st.LuaError, match=r"<nn.Linear> getParameters: 8 parameters but 6 gradients"):
        nnlua.execute("local m = nn.Linear(3, 2); m.gradBias = nil; m:getParameters()")


def test_update_parameters_and_acc_update(nnlua):
    r = nnlua.eval("""(function()
        local m = nn.Linear(3, 2)
        local x, go = torch.randn(4, 3), torch.randn(4, 2)
        local m2 = m:clone()
        m:zeroGradParameters()
        m:forward(x); m:backward(x, go)
        m:updateParameters(0.1)
        m2:forward(x); m2:backwardUpdate(x, go, 0.1)
        return (m.weight - m2.weight):abs():max(), (m.bias - m2.bias):abs():max()
    end)()""")
    assert max(r) < 1e-12


def test_modules_without_gradients_raise_instead_of_returning_empty(nnlua):
    lua = nnlua
    # a module class that does not define its gradients must not pass an empty
    # gradInput (or an untouched gradWeight) for a gradient
    lua.execute("""
        local Twice = torch.class('nn.TestTwice', 'nn.Module')
        function Twice:updateOutput(input) self.output = input * 2; return self.output end
        local Scaled = torch.class('nn.TestScaled', 'nn.Module')
        function Scaled:__init() nn.Module.__init(self); self.weight = torch.ones(3) end
        function Scaled:updateOutput(input) self.output = input:clone(); return self.output end
        function Scaled:updateGradInput(input, gradOutput) self.gradInput = gradOutput; return gradOutput end
        m = nn.Sequential():add(nn.Linear(3, 4)):add(nn.TestTwice())
        x = torch.randn(2, 3)
        m:forward(x)
    """)
    with pytest.raises(st.LuaError, match=r"<nn.TestTwice> updateGradInput is not implemented"):
        lua.execute("m:backward(x, torch.randn(2, 4))")
    with pytest.raises(st.LuaError, match=r"<nn.TestScaled> accGradParameters is not implemented"):
        lua.execute("c = nn.TestScaled(); c:forward(x); c:backward(x, torch.randn(2, 3))")
