"""Finite-difference gradient checks of a module `m` defined in a LuaState (double
precision), shared by the nn gradient tests: each module is built by a constructor
string, its updateGradInput and accGradParameters (with scale) compared with central
differences of its own forward, then the same module in float with the double results."""
import numpy as np

EPS = 1e-6


def rnd(shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


def forward(lua, x):
    lua["x"] = x
    return np.array(lua.eval("m:forward(x)"))


def loss(lua, x, g):
    return float((forward(lua, x) * g).sum())


def backward(lua, x, g, scale=1.0, params=()):
    """gradInput, and {name: gradient} after zeroing then accumulating with scale."""
    lua["x"], lua["g"] = x, g
    lua.execute("m:forward(x)")
    gin = np.array(lua.eval("m:updateGradInput(x, g)"))
    for p in params:
        lua.execute(f"if m.{p} then m.{p}:zero() end")
    lua.execute(f"m:accGradParameters(x, g, {scale!r})")
    return gin, {p: np.array(lua.eval(f"m.{p}")) for p in params}


def fd_input(lua, x, g):
    num = np.zeros_like(x)
    flat, nflat = x.reshape(-1), num.reshape(-1)
    for i in range(flat.size):
        v = flat[i]
        flat[i] = v + EPS
        up = loss(lua, x, g)
        flat[i] = v - EPS
        down = loss(lua, x, g)
        flat[i] = v
        nflat[i] = (up - down) / (2 * EPS)
    return num


def fd_param(lua, x, g, name):
    p = np.array(lua.eval(f"m.{name}"))
    num = np.zeros_like(p)
    flat, nflat = p.reshape(-1), num.reshape(-1)
    for i in range(flat.size):
        v = flat[i]
        for sign in (1, -1):
            flat[i] = v + sign * EPS
            lua["p"] = p
            lua.execute(f"m.{name}:copy(p)")
            nflat[i] += sign * loss(lua, x, g) / (2 * EPS)
        flat[i] = v
    lua["p"] = p
    lua.execute(f"m.{name}:copy(p)")
    return num


def check(lua, ctor, shape, params=("weight", "bias"), seed=0, tol=1e-6, setup="", x=None):
    """Double: gradients against finite differences; float: against double. The input is
    x, or random normal values of the given shape."""
    lua.execute(f"torch.manualSeed({seed}); m = {ctor}; {setup}")
    x = rnd(shape, seed) if x is None else np.array(x, dtype=np.float64)
    out = forward(lua, x)
    g = rnd(out.shape, seed + 1)
    grads = [p.replace("weight", "gradWeight").replace("bias", "gradBias") for p in params]
    gin, gp = backward(lua, x, g, 0.5, grads)
    np.testing.assert_allclose(gin, fd_input(lua, x, g), rtol=tol, atol=tol)
    for p, gname in zip(params, grads):
        np.testing.assert_allclose(gp[gname], 0.5 * fd_param(lua, x, g, p), rtol=tol, atol=tol)
    # the same module in float gives the same gradients to float precision
    lua.execute("m = m:float()")
    ginf, gpf = backward(lua, x.astype(np.float32), g.astype(np.float32), 0.5, grads)
    assert ginf.dtype == np.float32
    np.testing.assert_allclose(ginf, gin, rtol=1e-4, atol=1e-4)
    for gname in grads:
        assert gpf[gname].dtype == np.float32
        np.testing.assert_allclose(gpf[gname], gp[gname], rtol=1e-4, atol=1e-4)
    return x, g, gin, gp
