"""TensorMath pointwise ops, comparisons and operators against NumPy, in both call forms."""
import numpy as np
import pytest

import sparktorch7 as st

FLOATS = [np.float64, np.float32]
INTS = [np.int64, np.int32, np.int16, np.int8, np.uint8]
TNAME = {np.float64: "Double", np.float32: "Float", np.int64: "Long", np.int32: "Int",
         np.int16: "Short", np.int8: "Char", np.uint8: "Byte"}


@pytest.fixture
def lua():
    state = st.LuaState()
    state.execute("require 'torch'")
    return state


def tol(dtype):
    return dict(rtol=1e-5, atol=1e-6) if dtype == np.float32 else dict(rtol=1e-12, atol=1e-12)


def noncontig(a):
    """A transposed view of a copy of a: same values, not contiguous."""
    return np.ascontiguousarray(a.T).T


UNARY = {
    "abs": np.abs, "exp": np.exp, "log": np.log, "log1p": np.log1p, "sqrt": np.sqrt,
    "sin": np.sin, "cos": np.cos, "tan": np.tan, "asin": np.arcsin, "acos": np.arccos,
    "atan": np.arctan, "sinh": np.sinh, "cosh": np.cosh, "tanh": np.tanh,
    "floor": np.floor, "ceil": np.ceil, "trunc": np.trunc, "neg": np.negative,
    "sign": np.sign, "sigmoid": lambda x: 1 / (1 + np.exp(-x)),
    "rsqrt": lambda x: 1 / np.sqrt(x), "cinv": lambda x: 1 / x,
    "round": lambda x: np.copysign(np.floor(np.abs(x) + 0.5), x),
    "frac": lambda x: x - np.trunc(x),
}
DOMAIN = {"log": (0.1, 3), "sqrt": (0.1, 3), "rsqrt": (0.1, 3), "asin": (-0.9, 0.9),
          "acos": (-0.9, 0.9), "log1p": (-0.5, 3), "cinv": (0.5, 3)}


@pytest.mark.parametrize("name", sorted(UNARY))
@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("size", [(5, 7), (300, 200)])  # the big one goes through numpy
def test_unary_both_forms(lua, name, dtype, size):
    lo, hi = DOMAIN.get(name, (-3, 3))
    x = np.random.default_rng(1).uniform(lo, hi, size).astype(dtype)
    lua["x"] = noncontig(x)
    want = UNARY[name](x.astype(np.float64)).astype(dtype)
    got = lua.eval(f"torch.{name}(x)")
    np.testing.assert_allclose(got, want, **tol(dtype))
    assert got.dtype == dtype
    res = lua.eval(f"(function() local r = torch.{TNAME[dtype]}Tensor(); torch.{name}(r, x); return r end)()")
    np.testing.assert_allclose(res, want, **tol(dtype))
    inplace = lua.eval(f"(function() local y = x:clone(); y:{name}(); return y end)()")
    np.testing.assert_allclose(inplace, want, **tol(dtype))
    # the source is untouched by the functional forms
    np.testing.assert_array_equal(lua["x"], x)


def test_unary_on_numbers(lua):
    assert lua.eval("torch.floor(2.7)") == 2
    assert lua.eval("torch.abs(-3)") == 3
    assert lua.eval("torch.sqrt(16)") == 4
    assert lua.eval("torch.pow(2, 10)") == 1024


def test_method_with_source_writes_into_self(lua):
    x = np.linspace(-1, 1, 12).reshape(3, 4)
    lua["x"] = x
    got = lua.eval("(function() local r = torch.zeros(2, 6); r:exp(x); return r end)()")
    np.testing.assert_allclose(got, np.exp(x))  # resized to the source's shape


SCALAR = [("add", np.add), ("mul", np.multiply), ("csub", np.subtract)]


@pytest.mark.parametrize("dtype", FLOATS + INTS)
@pytest.mark.parametrize("name,f", SCALAR)
def test_scalar_ops_all_types(lua, dtype, name, f):
    x = (np.arange(24).reshape(4, 6) % 11).astype(dtype)
    lua["x"] = x[:, 1:5]
    want = f(x[:, 1:5], dtype(3)).astype(dtype)
    np.testing.assert_array_equal(lua.eval(f"torch.{name}(x, 3)"), want)
    np.testing.assert_array_equal(lua.eval(f"x:clone():{name}(3)"), want)
    np.testing.assert_array_equal(lua.eval(f"torch.{TNAME[dtype]}Tensor():{name}(x, 3)"), want)


def test_integer_division_truncates_like_c(lua):
    x = np.array([7, -7, 9, -9], dtype=np.int32)
    lua["x"] = x
    np.testing.assert_array_equal(lua.eval("torch.div(x, 2)"), [3, -3, 4, -4])
    np.testing.assert_array_equal(lua.eval("torch.fmod(x, 4)"), np.fmod(x, 4))
    np.testing.assert_array_equal(lua.eval("torch.remainder(x, 4)"), np.remainder(x, 4))
    # a fractional scalar is cast to the integer type first, as Torch7 does
    np.testing.assert_array_equal(lua.eval("torch.add(x, 2.9)"), x + 2)


def test_byte_arithmetic_wraps(lua):
    lua["b"] = np.array([250, 3], dtype=np.uint8)
    np.testing.assert_array_equal(lua.eval("torch.add(b, 10)"), [4, 13])
    np.testing.assert_array_equal(lua.eval("torch.cmul(b, b)"), (np.array([250, 3]) ** 2) % 256)


@pytest.mark.parametrize("dtype", FLOATS)
def test_add_forms(lua, dtype):
    rng = np.random.default_rng(2)
    a, b = rng.standard_normal((2, 3, 4)).astype(dtype)
    lua["a"], lua["b"] = a, noncontig(b)
    t = tol(dtype)
    np.testing.assert_allclose(lua.eval("torch.add(a, b)"), a + b, **t)
    np.testing.assert_allclose(lua.eval("torch.add(a, 2, b)"), a + 2 * b, **t)
    np.testing.assert_allclose(lua.eval("a:clone():add(b)"), a + b, **t)
    np.testing.assert_allclose(lua.eval("a:clone():add(0.5, b)"), a + 0.5 * b, **t)
    np.testing.assert_allclose(lua.eval("torch.Tensor():type(a:type()):add(a, -1, b)"), a - b, **t)
    np.testing.assert_allclose(lua.eval("(function() local r = a:clone(); torch.add(r, a, 3, b); return r end)()"),
                               a + 3 * b, **t)
    np.testing.assert_allclose(lua.eval("a:clone():csub(b)"), a - b, **t)
    np.testing.assert_allclose(lua.eval("a:clone():csub(2, b)"), a - 2 * b, **t)


BINARY = {
    "cmul": np.multiply, "cdiv": np.divide, "cpow": np.power, "atan2": np.arctan2,
    "cmax": np.maximum, "cmin": np.minimum, "cfmod": np.fmod, "cremainder": np.remainder,
}


@pytest.mark.parametrize("name", sorted(BINARY))
def test_binary_tensor_ops(lua, name):
    rng = np.random.default_rng(3)
    a = rng.uniform(0.5, 3, (4, 5))
    b = rng.uniform(0.5, 3, (5, 4))
    lua["a"], lua["b"] = a, b
    # b has another shape but as many elements: Torch7 pairs elements in row-major order
    want = BINARY[name](a, b.reshape(4, 5))
    np.testing.assert_allclose(lua.eval(f"torch.{name}(a, b)"), want, rtol=1e-12)
    np.testing.assert_allclose(lua.eval(f"a:clone():{name}(b)"), want, rtol=1e-12)
    np.testing.assert_allclose(lua.eval(f"torch.Tensor():{name}(a:t(), b:t())"),
                               BINARY[name](a.T, b.T.reshape(5, 4)), rtol=1e-12)


def test_cmax_cmin_number_pow_clamp_lerp(lua):
    x = np.linspace(-2, 2, 9)
    lua["x"] = x
    np.testing.assert_allclose(lua.eval("torch.cmax(x, 0.5)"), np.maximum(x, 0.5))
    np.testing.assert_allclose(lua.eval("torch.cmin(x, 0.5)"), np.minimum(x, 0.5))
    np.testing.assert_allclose(lua.eval("torch.pow(x, 3)"), x ** 3)
    np.testing.assert_allclose(lua.eval("torch.pow(3, x)"), 3.0 ** x)
    np.testing.assert_allclose(lua.eval("torch.clamp(x, -1, 1.5)"), np.clip(x, -1, 1.5))
    np.testing.assert_allclose(lua.eval("x:clone():clamp(-1, 1)"), np.clip(x, -1, 1))
    y = x[::-1].copy()
    lua["y"] = y
    np.testing.assert_allclose(lua.eval("torch.lerp(x, y, 0.25)"), x + 0.25 * (y - x))
    assert lua.eval("torch.lerp(1, 3, 0.5)") == 2


def test_addcmul_addcdiv(lua):
    rng = np.random.default_rng(4)
    s, a, b = rng.uniform(1, 2, (3, 4, 5))
    lua["s"], lua["a"], lua["b"] = s, a, b
    np.testing.assert_allclose(lua.eval("torch.addcmul(s, 2, a, b)"), s + 2 * a * b)
    np.testing.assert_allclose(lua.eval("torch.addcdiv(s, a, b)"), s + a / b)
    np.testing.assert_allclose(lua.eval("s:clone():addcmul(0.5, a, b)"), s + 0.5 * a * b)
    np.testing.assert_allclose(lua.eval("torch.Tensor():addcdiv(s, 3, a, b)"), s + 3 * a / b)


def test_bit_ops_and_shifts(lua):
    x = np.array([5, 12, 100, 7], dtype=np.int64)
    y = np.array([3, 10, 1, 7], dtype=np.int64)
    lua["x"], lua["y"] = x, y
    np.testing.assert_array_equal(lua.eval("torch.bitand(x, 6)"), x & 6)
    np.testing.assert_array_equal(lua.eval("torch.bitor(x, 3)"), x | 3)
    np.testing.assert_array_equal(lua.eval("torch.cbitxor(x, y)"), x ^ y)
    np.testing.assert_array_equal(lua.eval("x:clone():lshift(2)"), x << 2)
    np.testing.assert_array_equal(lua.eval("x:clone():rshift(2)"), x >> 2)


CMP = {"lt": np.less, "le": np.less_equal, "gt": np.greater, "ge": np.greater_equal,
       "eq": np.equal, "ne": np.not_equal}


@pytest.mark.parametrize("name", sorted(CMP))
def test_comparisons(lua, name):
    a = np.array([[1, 2, 3], [4, 5, 6]], dtype=np.float32)
    b = np.array([[3, 2, 1], [6, 5, 4]], dtype=np.float32)
    lua["a"], lua["b"] = a, b
    got = lua.eval(f"torch.{name}(a, 3)")
    assert got.dtype == np.uint8
    np.testing.assert_array_equal(got, CMP[name](a, 3))
    np.testing.assert_array_equal(lua.eval(f"a:{name}(b)"), CMP[name](a, b))
    np.testing.assert_array_equal(lua.eval(f"torch.ByteTensor():{name}(a, b)"), CMP[name](a, b))
    np.testing.assert_array_equal(
        lua.eval(f"(function() local r = torch.ByteTensor(); torch.{name}(r, a:t(), b:t()); return r end)()"),
        CMP[name](a.T, b.T))


def test_operators(lua):
    rng = np.random.default_rng(5)
    m, n, v = rng.standard_normal((3, 4)), rng.standard_normal((4, 2)), rng.standard_normal(4)
    lua["m"], lua["n"], lua["v"] = m, n, v
    np.testing.assert_allclose(lua.eval("m + 1"), m + 1)
    np.testing.assert_allclose(lua.eval("2 + m"), m + 2)
    np.testing.assert_allclose(lua.eval("m - m"), 0 * m)
    np.testing.assert_allclose(lua.eval("1 - m"), 1 - m)
    np.testing.assert_allclose(lua.eval("m * 3"), m * 3)
    np.testing.assert_allclose(lua.eval("3 * m"), m * 3)
    np.testing.assert_allclose(lua.eval("m / 4"), m / 4)
    np.testing.assert_allclose(lua.eval("-m"), -m)
    np.testing.assert_allclose(lua.eval("m * n"), m @ n)
    np.testing.assert_allclose(lua.eval("m * v"), m @ v)
    assert lua.eval("v * v") == pytest.approx(v @ v)


def test_bad_arguments_blame_the_caller(lua):
    lua["x"] = np.zeros(3)
    with pytest.raises(st.LuaError) as e:
        lua.execute("local y = torch.add(x, 'two')")
    msg = str(e.value)
    assert "<torch.add> invalid arguments (torch.DoubleTensor of size 3, string \"two\")" in msg
    assert "expected torch.add(" in msg
    # the message blames the caller's chunk and line, not the library
    assert msg.splitlines()[0].startswith('[string "local y = torch.add(x, \'two\')"]:1: <torch.add>')
    assert "stack traceback" in msg
    with pytest.raises(st.LuaError, match=r"<torch.cmul> inconsistent tensor size: expected 3 elements"):
        lua.execute("local y = torch.cmul(x, torch.zeros(4))")
    with pytest.raises(st.LuaError, match=r"<torch.__mul> multiplication between 2D and 3D"):
        lua.execute("local y = torch.zeros(2, 2) * torch.zeros(2, 2, 2)")
    with pytest.raises(st.LuaError, match=r"<torch.exp> invalid arguments"):
        lua.execute("local y = x:exp('a')")


def test_read_only_result_is_refused(lua):
    x = np.zeros(3)
    x.flags.writeable = False
    lua["x"] = x
    with pytest.raises(st.LuaError, match="read-only"):
        lua.execute("x:add(1)")
    np.testing.assert_array_equal(lua.eval("torch.add(x, 1)"), [1, 1, 1])


@pytest.mark.slow
def test_numpy_backed_calls_leak_nothing():
    """10**5 calls through torch._np (numpy paths) keep refcounts and RSS flat."""
    import gc
    import sys

    import psutil

    lua = st.LuaState()
    try:
        lua.execute("require 'torch'")
        x = np.random.default_rng(0).random(40000)
        m = np.random.default_rng(1).random((70, 70))
        lua["x"], lua["m"] = x, m
        base_x, base_m = sys.getrefcount(x), sys.getrefcount(m)
        run = lua.eval("""function(n)
            local r, p = torch.Tensor(), torch.Tensor()
            for i = 1, n do r:sqrt(x); p:mm(m, m); local s = x:sum() end
            collectgarbage()
        end""")
        run(2000)
        gc.collect()
        before = psutil.Process().memory_info().rss
        run(100000 // 2)
        gc.collect()
        after = psutil.Process().memory_info().rss
        assert after - before < 20 * 2 ** 20, (before, after)
        assert sys.getrefcount(x) == base_x and sys.getrefcount(m) == base_m
    finally:
        lua.close()


def test_results_share_memory_with_numpy(lua):
    x = np.arange(6.0)
    lua["x"] = x
    lua.execute("x:mul(2)")
    np.testing.assert_array_equal(x, np.arange(6.0) * 2)


FUZZ = r"""
local U = require 'torch.math_util'
local names = {}
for k in pairs(U.funcs) do names[#names + 1] = k end
table.sort(names)
local argsets = {
  {}, {'x'}, {{}}, {1}, {torch.Tensor()}, {torch.Tensor(), 'a'}, {torch.randn(3)}, {torch.randn(3), 'a'},
  {torch.randn(3), torch.randn(4)}, {torch.randn(2, 3), 5}, {torch.randn(2, 3), 0}, {torch.randn(2, 3), -1},
  {torch.randn(2, 3), torch.randn(2, 3), torch.randn(2, 3)}, {torch.randn(2, 2), 1.5, 2.5},
  {torch.LongTensor{1, 2}, 1, torch.randn(2)}, {torch.randn(3), true}, {torch.randn(2, 3), 1, torch.LongTensor{5}},
  {torch.ByteTensor(3)}, {torch.randn(2, 3), 3, 100},
}
local raw = {}
local function try(label, f, ...)
  local ok, err = pcall(f, ...)
  if not ok and not tostring(err):find('<torch') then raw[#raw + 1] = label .. ': ' .. tostring(err) end
end
for _, name in ipairs(names) do
  for i, a in ipairs(argsets) do
    try('torch.' .. name .. ' #' .. i, torch[name], unpack(a, 1, table.maxn(a)))
    local t = torch.randn(2, 3)
    try('t:' .. name .. ' #' .. i, t[name], t, unpack(a, 1, table.maxn(a)))
  end
end
return #names, table.concat(raw, '\n')
"""


def test_every_function_refuses_bad_arguments_with_a_torch_error(lua):
    """Bad calls of every TensorMath function raise '<torch.f> ...', never a raw Lua error."""
    count, raw = lua.execute(FUZZ)
    assert count > 120
    assert raw == ""


@pytest.mark.parametrize("n", [7, 100000])  # small: Lua kernels; big: numpy
def test_branchy_ops_same_on_both_paths(lua, n):
    rng = np.random.default_rng(9)
    x, y = rng.uniform(-2, 2, n), rng.uniform(-2, 2, n)
    x[3] = np.nan
    lua["x"], lua["y"] = x, y
    for name, f in CMP.items():
        got = lua.eval(f"torch.{name}(x, 0.5)")
        assert got.dtype == np.uint8
        np.testing.assert_array_equal(got, f(x, 0.5))
        np.testing.assert_array_equal(lua.eval(f"x:{name}(y)"), f(x, y))
        np.testing.assert_array_equal(lua.eval(f"torch.Tensor():{name}(x, y)"), f(x, y).astype(np.float64))
    # Torch7 semantics, NaN included: cmax is x > y ? x : y, clamp keeps NaN
    np.testing.assert_array_equal(lua.eval("torch.cmax(x, y)"), np.where(x > y, x, y))
    np.testing.assert_array_equal(lua.eval("torch.cmin(x, 0.1)"), np.where(x < 0.1, x, 0.1))
    np.testing.assert_array_equal(lua.eval("torch.clamp(x, -1, 1)"), np.clip(x, -1, 1))


@pytest.mark.parametrize("n", [4, 100000])
def test_float_scalars_are_single_precision_reals(lua, n):
    """Torch7 casts a scalar argument to the tensor's `real`: 0.1 compares equal in a FloatTensor."""
    x = np.full(n, 0.1, dtype=np.float32)
    lua["x"] = x
    assert lua.eval("x:eq(0.1):sum()") == n
    assert lua.eval("torch.ne(x, 0.1):sum()") == 0
    np.testing.assert_array_equal(lua.eval("torch.add(x, 0.1)"), x + np.float32(0.1))
    np.testing.assert_array_equal(lua.eval("torch.mul(x, 0.3)"), x * np.float32(0.3))


def test_negative_strides_from_numpy(lua):
    a = np.arange(12.0).reshape(3, 4)[::-1, ::-2]
    big = np.random.default_rng(3).random((300, 300))[::-1, ::-1]
    lua["a"], lua["big"] = a, big
    np.testing.assert_array_equal(lua.eval("torch.cmul(a, a)"), a * a)
    np.testing.assert_array_equal(lua.eval("a:sum(1)"), a.sum(0, keepdims=True))
    np.testing.assert_array_equal(lua.eval("torch.mm(a:t(), a)"), a.T @ a)
    np.testing.assert_array_equal(lua.eval("torch.cumsum(a, 1)"), np.cumsum(a, 0))
    np.testing.assert_allclose(lua.eval("torch.sqrt(big)"), np.sqrt(big))
    np.testing.assert_allclose(lua.eval("big:sum(2)"), big.sum(1, keepdims=True))
    np.testing.assert_array_equal(lua.eval("big:sort(1)")[0], np.sort(big, 0))
