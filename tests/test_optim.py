"""optim: Torch7's (opfunc, x, config, state) methods against NumPy updates done by hand."""
import numpy as np
import pytest

import sparktorch7 as st


@pytest.fixture
def lua():
    state = st.LuaState()
    state.execute("require 'nn'; require 'optim'; torch.setdefaulttensortype('torch.DoubleTensor')")
    yield state
    state.close()


# f(x) = 0.5 * sum(a * x^2) + b . x, gradient a * x + b
A = np.array([1.0, 2.0, 0.5, 3.0])
B = np.array([0.3, -0.2, 0.1, 0.0])
RUN = """function(x0, a, b, steps, config, method)
    local x = x0:clone()
    local function opfunc(x)
       local g = torch.cmul(a, x):add(b)
       return 0.5 * torch.cmul(a, torch.cmul(x, x)):sum() + b:dot(x), g
    end
    local state = {}
    local fs = {}
    for i = 1, steps do
       local _, f = optim[method](opfunc, x, config, state)
       fs[i] = f[1]
    end
    return x, torch.Tensor(fs)
end"""


def f_and_grad(x):
    return 0.5 * np.sum(A * x * x) + B @ x, A * x + B


@pytest.mark.parametrize("cfg", [
    dict(learningRate=0.1),
    dict(learningRate=0.1, momentum=0.9),
    dict(learningRate=0.1, momentum=0.9, dampening=0.0, nesterov=True),
    dict(learningRate=0.1, weightDecay=0.01, learningRateDecay=0.1, momentum=0.5, dampening=0.2),
])
def test_sgd_matches_numpy(lua, cfg):
    x0 = np.array([1.0, -1.0, 2.0, 0.5])
    x, fs = lua.eval(RUN)(x0, A, B, 5, cfg, "sgd")
    lr, lrd = cfg["learningRate"], cfg.get("learningRateDecay", 0)
    wd, mom = cfg.get("weightDecay", 0), cfg.get("momentum", 0)
    damp, nest = cfg.get("dampening", mom), cfg.get("nesterov", False)
    xr, buf, ref = x0.copy(), None, []
    for n in range(5):
        f, g = f_and_grad(xr)
        ref.append(f)
        g = g + wd * xr
        if mom:
            buf = g.copy() if buf is None else mom * buf + (1 - damp) * g
            g = g + mom * buf if nest else buf
        xr = xr - lr / (1 + n * lrd) * g
    np.testing.assert_allclose(x, xr, rtol=1e-12)
    np.testing.assert_allclose(fs, ref, rtol=1e-12)
    assert fs[-1] < fs[0]


def test_adam_matches_numpy(lua):
    x0 = np.array([1.0, -1.0, 2.0, 0.5])
    x, fs = lua.eval(RUN)(x0, A, B, 6, {"learningRate": 0.05}, "adam")
    xr, m, v = x0.copy(), np.zeros(4), np.zeros(4)
    for t in range(1, 7):
        _, g = f_and_grad(xr)
        m = 0.9 * m + 0.1 * g
        v = 0.999 * v + 0.001 * g * g
        step = 0.05 * np.sqrt(1 - 0.999 ** t) / (1 - 0.9 ** t)
        xr = xr - step * m / (np.sqrt(v) + 1e-8)
    np.testing.assert_allclose(x, xr, rtol=1e-12)


def test_bad_opfunc_is_named(lua):
    with pytest.raises(st.LuaError, match=r"<optim.sgd> opfunc must return f\(x\) and a gradient of 3 elements"):
        lua.eval("optim.sgd(function(x) return 0, torch.zeros(2) end, torch.zeros(3), {})")
    with pytest.raises(st.LuaError, match=r"optim.cmaes is not implemented"):
        lua.eval("optim.cmaes")
