"""Pointwise TensorMath on narrow views with far-apart rows (an RNN's gates per time step),
at the sizes that go to numpy (8192+ elements for arithmetic, 4096+ for sigmoid, tanh)."""
import numpy as np
import pytest

import sparktorch7 as st

N, T, P = 32, 6, 2048       # gates[{{}, t}] of N x T x P: rows T*P apart


@pytest.fixture
def lua():
    state = st.LuaState()
    state.execute("require 'torch'")
    return state


def gates(lua, tname, seed=0):
    g = np.random.default_rng(seed).standard_normal((N, T, P)) * 3
    lua["g"] = g
    lua.execute(f"g = g:{tname}(); cur = g[{{{{}}, 3}}]")
    dtype = np.float32 if tname == "float" else np.float64
    return g.astype(dtype)


def part(lua, i, width=512):
    return f"cur[{{{{}}, {{{i * width + 1}, {(i + 1) * width}}}}}]"


@pytest.mark.parametrize("tname", ["float", "double"])
def test_arithmetic_on_views_matches_elementwise(lua, tname):
    g = gates(lua, tname)
    cur = g[:, 2]
    a, b, c = cur[:, :512], cur[:, 512:1024], cur[:, 1024:1536]
    A, B, C = part(lua, 0), part(lua, 1), part(lua, 2)
    got = lua.eval(f"(function() local r = torch.Tensor():type(g:type()); r:cmul({A}, {B}) return r end)()")
    np.testing.assert_array_equal(got, a * b)
    got = lua.eval(f"(function() {C}:cmul({A}, {B}):add({B}) return g end)()")
    np.testing.assert_array_equal(got[:, 2, 1024:1536], a * b + b)
    # everything else untouched
    np.testing.assert_array_equal(got[:, [0, 1, 3, 4, 5]], g[:, [0, 1, 3, 4, 5]])
    np.testing.assert_array_equal(got[:, 2, :1024], cur[:, :1024])
    np.testing.assert_array_equal(got[:, 2, 1536:], cur[:, 1536:])
    # in place, the result aliasing an operand, scalars cast to the tensor's real
    got = lua.eval(f"(function() local x = {A}:clone(); x:cmul(x) x:mul(0.1) x:div(3) x:add(0.7) return x end)()")
    s = a * a
    dt = a.dtype.type
    np.testing.assert_array_equal(got, ((s * dt(0.1)) / dt(3)) + dt(0.7))
    got = lua.eval(f"(function() local x = {A}:clone(); x:cdiv({B}) x:csub(1) return x end)()")
    np.testing.assert_array_equal(got, a / b - dt(1))


@pytest.mark.parametrize("tname", ["float", "double"])
def test_sigmoid_and_tanh_on_views(lua, tname):
    g = gates(lua, tname, seed=1)
    cur = g[:, 2]
    got = lua.eval("(function() cur[{{}, {1, 1536}}]:sigmoid() cur[{{}, {1537, 2048}}]:tanh() return g end)()")
    x = cur[:, :1536]
    want = np.reciprocal(np.exp(-x) + x.dtype.type(1))
    np.testing.assert_array_equal(got[:, 2, :1536], want)
    np.testing.assert_array_equal(got[:, 2, 1536:], np.tanh(cur[:, 1536:]))
    np.testing.assert_array_equal(got[:, 1], g[:, 1])
    ref = 1 / (1 + np.exp(-cur[:, :1536].astype(np.float64)))
    np.testing.assert_allclose(got[:, 2, :1536], ref, rtol=1e-6 if tname == "float" else 1e-14)
    # res:sigmoid(src) into another view leaves src alone
    g = gates(lua, tname, seed=2)
    got = lua.eval("(function() g[{{}, 1}]:sigmoid(g[{{}, 2}]) return g end)()")
    np.testing.assert_array_equal(got[:, 1], g[:, 1])
    np.testing.assert_allclose(got[:, 0], 1 / (1 + np.exp(-g[:, 1].astype(np.float64))),
                               rtol=1e-6 if tname == "float" else 1e-14)
