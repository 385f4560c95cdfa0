"""nn modules against NumPy references: single samples and batches, float and double."""
import numpy as np
import pytest

import sparktorch7 as st

DTYPES = [np.float32, np.float64]


@pytest.fixture
def nnlua():
    state = st.LuaState()
    state.execute("require 'nn'")
    yield state
    state.close()


def tol(dtype):
    return dict(rtol=2e-5, atol=2e-6) if dtype == np.float32 else dict(rtol=1e-11, atol=1e-12)


TNAME = {np.float32: "torch.FloatTensor", np.float64: "torch.DoubleTensor"}


def forward(state, ctor, x, dtype, fields=None, setup=""):
    """Build the module of the Lua expression ctor, set fields (arrays), convert
    it to dtype and return a copy of forward(x)."""
    f = state.eval(
        "function(x, fields, tname)\n"
        f"  local m = {ctor}\n"
        "  for k, v in pairs(fields) do m[k] = v end\n"
        f"  {setup}\n"
        "  m:type(tname)\n"
        "  return m:forward(x)\n"
        "end")
    out = f(cast(x, dtype), fields or {}, TNAME[dtype])
    return copy(out)


def cast(x, dtype):
    if isinstance(x, np.ndarray) and x.dtype.kind == "f":
        return x.astype(dtype)
    if isinstance(x, (list, tuple)):
        return [cast(v, dtype) for v in x]
    return x


def copy(out):
    if isinstance(out, np.ndarray):
        return out.copy()
    if isinstance(out, dict):
        return [copy(out[k]) for k in sorted(out)]
    return out


def rng(seed=0):
    return np.random.default_rng(seed)


def softmax(x, axis):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


# (Lua constructor, NumPy reference, input shapes: single, batch)
ELEMENTWISE = [
    ("nn.ReLU()", lambda x: np.maximum(x, 0)),
    ("nn.ReLU6()", lambda x: np.clip(x, 0, 6)),
    ("nn.Threshold(0.5, -2)", lambda x: np.where(x > 0.5, x, -2)),
    ("nn.LeakyReLU(0.1)", lambda x: np.where(x > 0, x, 0.1 * x)),
    ("nn.RReLU(0.1, 0.3):evaluate()", lambda x: np.where(x >= 0, x, 0.2 * x)),
    ("nn.ELU(0.7)", lambda x: np.where(x > 0, x, 0.7 * (np.exp(x) - 1))),
    ("nn.Tanh()", np.tanh),
    ("nn.HardTanh(-0.5, 0.8)", lambda x: np.clip(x, -0.5, 0.8)),
    ("nn.Clamp(-0.2, 0.4)", lambda x: np.clip(x, -0.2, 0.4)),
    ("nn.Sigmoid()", sigmoid),
    ("nn.LogSigmoid()", lambda x: np.log(sigmoid(x))),
    ("nn.SoftPlus()", lambda x: np.log1p(np.exp(x))),
    ("nn.SoftPlus(2, 1)", lambda x: np.where(2 * x > 1, x, np.log1p(np.exp(2 * x)) / 2)),
    ("nn.SoftSign()", lambda x: x / (1 + np.abs(x))),
    ("nn.SoftShrink(0.3)", lambda x: np.where(x > 0.3, x - 0.3, np.where(x < -0.3, x + 0.3, 0))),
    ("nn.HardShrink(0.3)", lambda x: np.where(np.abs(x) > 0.3, x, 0)),
    ("nn.TanhShrink()", lambda x: x - np.tanh(x)),
    ("nn.Abs()", np.abs),
    ("nn.Exp()", np.exp),
    ("nn.Square()", np.square),
    ("nn.Power(3)", lambda x: x ** 3),
    ("nn.AddConstant(1.5)", lambda x: x + 1.5),
    ("nn.MulConstant(-2.5)", lambda x: x * -2.5),
    ("nn.Identity()", lambda x: x),
    ("nn.GradientReversal(0.5)", lambda x: x),
    ("nn.Contiguous()", lambda x: x),
    ("nn.Dropout(0.3):evaluate()", lambda x: x),
    ("nn.Dropout(0.3, true):evaluate()", lambda x: 0.7 * x),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("ctor,ref", ELEMENTWISE, ids=[c for c, _ in ELEMENTWISE])
@pytest.mark.parametrize("shape", [(7,), (4, 7), (2, 3, 5)])
def test_elementwise(nnlua, ctor, ref, dtype, shape):
    x = rng().standard_normal(shape) * 2
    out = forward(nnlua, ctor, x, dtype)
    assert out.shape == x.shape
    assert out.dtype == dtype
    np.testing.assert_allclose(out, ref(x.astype(dtype).astype(np.float64)), **tol(dtype))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("ctor,ref", [
    ("nn.Log()", np.log), ("nn.Sqrt()", np.sqrt), ("nn.Sqrt(0.5)", lambda x: np.sqrt(x + 0.5))])
def test_elementwise_positive(nnlua, ctor, ref, dtype):
    x = rng().uniform(0.1, 3, (4, 6))
    np.testing.assert_allclose(forward(nnlua, ctor, x, dtype), ref(x.astype(dtype).astype(np.float64)), **tol(dtype))
    np.testing.assert_allclose(forward(nnlua, ctor, x[0], dtype), ref(x[0].astype(dtype).astype(np.float64)), **tol(dtype))


def test_inplace_modules_write_into_the_input(nnlua):
    x = np.array([-1.0, 2.0, -3.0])
    f = nnlua.eval("function(x) local m = nn.ReLU(true); local y = m:forward(x); return y, m.output == x end")
    y, same = f(x)
    assert same
    np.testing.assert_array_equal(x, [0, 2, 0])


def test_inplace_on_a_non_contiguous_input(nnlua):
    x = np.arange(-6.0, 6.0).reshape(3, 4)
    f = nnlua.eval("function(x) return nn.AddConstant(10, true):forward(x:t()) end")
    f(x)
    np.testing.assert_array_equal(x, np.arange(-6.0, 6.0).reshape(3, 4) + 10)


# Big enough for the numpy path of ReLU-like thresholds (sparktorch7._nn_ops.threshold_max)
SPECIALS = [np.nan, -np.nan, -0.0, 0.0, np.inf, -np.inf, 0.5, -0.5]


def torch7_threshold(x, th, val):
    return np.where(x > th, x, x.dtype.type(val))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("ctor,th,val", [
    ("nn.ReLU()", 0.0, 0.0), ("nn.Threshold(0.5, 0.5)", 0.5, 0.5), ("nn.Threshold(0.5, -2)", 0.5, -2.0)])
@pytest.mark.parametrize("shape", [(40000,), (64, 513), (3, 128, 97)])
def test_threshold_large_inputs(nnlua, dtype, ctor, th, val, shape):
    x = (rng(7).standard_normal(shape) * 2).astype(dtype)
    x.reshape(-1)[:len(SPECIALS) * 50] = np.tile(SPECIALS, 50)
    out = forward(nnlua, ctor, x, dtype)
    want = torch7_threshold(x, th, val)
    np.testing.assert_array_equal(out, want)
    np.testing.assert_array_equal(np.signbit(out), np.signbit(want))


@pytest.mark.parametrize("dtype", DTYPES)
def test_relu_large_inplace(nnlua, dtype):
    x = rng(8).standard_normal((300, 200)).astype(dtype)
    x[0, :len(SPECIALS)] = SPECIALS
    want = torch7_threshold(x, 0, 0)
    f = nnlua.eval("function(x) local m = nn.ReLU(true); local y = m:forward(x); "
                   "return m.output == x, torch.pointer(y) == torch.pointer(x) end")
    same, samedata = f(x)
    assert same and samedata
    np.testing.assert_array_equal(x, want)
    np.testing.assert_array_equal(np.signbit(x), np.signbit(want))
    # in place on a strided view: written back into the viewed memory
    y = rng(9).standard_normal((200, 300)).astype(dtype)
    want = torch7_threshold(y, 0, 0)
    nnlua.eval("function(y) return nn.ReLU(true):forward(y:t()) end")(y)
    np.testing.assert_array_equal(y, want)


def test_relu_large_reuses_its_output(nnlua):
    f = nnlua.eval("""function(a, b)
        local m = nn.ReLU():float()
        local y1 = m:forward(a)
        local r1 = y1:clone()
        local y2 = m:forward(b)
        return r1, y2, torch.pointer(y1) == torch.pointer(y2)
    end""")
    a = rng(10).standard_normal((256, 256)).astype(np.float32)
    b = rng(11).standard_normal((128, 512)).astype(np.float32)
    r1, r2, same = f(a, b)
    np.testing.assert_array_equal(r1, np.maximum(a, 0))
    np.testing.assert_array_equal(r2, np.maximum(b, 0))
    assert same


@pytest.mark.parametrize("intype,outtype,dtype", [
    ("torch.DoubleTensor", "torch.FloatTensor", np.float32),
    ("torch.FloatTensor", "torch.DoubleTensor", np.float64),
    ("torch.DoubleTensor", "torch.DoubleTensor", np.float64)])
def test_copy(nnlua, intype, outtype, dtype):
    x = rng().standard_normal((3, 4))
    out = nnlua.eval(f"function(x) return nn.Copy('{intype}', '{outtype}'):forward(x) end")(x)
    assert out.dtype == dtype
    np.testing.assert_array_equal(out, x.astype(dtype))


def test_non_contiguous_input(nnlua):
    x = rng().standard_normal((5, 4))
    out = nnlua.eval("function(x) return nn.Tanh():forward(x:t()) end")(x)
    np.testing.assert_allclose(out, np.tanh(x.T))


@pytest.mark.parametrize("dtype", DTYPES)
# nn.SoftMax, nn.LogSoftMax, nn.SoftMin
@pytest.mark.parametrize("name,axis_of", [
    ("SoftMax", None), ("LogSoftMax", None), ("SoftMin", None)])
@pytest.mark.parametrize("shape,axis", [((6,), 0), ((3, 6), 1), ((4, 3, 2), 0), ((2, 4, 3, 2), 1)])
def test_softmax_family(nnlua, name, axis_of, shape, axis, dtype):
    x = rng().standard_normal(shape) * 3
    out = forward(nnlua, f"nn.{name}()", x, dtype)
    xd = x.astype(dtype).astype(np.float64)
    ref = {"SoftMax": softmax(xd, axis), "LogSoftMax": np.log(softmax(xd, axis)),
           "SoftMin": softmax(-xd, axis)}[name]
    np.testing.assert_allclose(out, ref, **tol(dtype))


def test_softmax_is_stable_for_large_inputs(nnlua):
    x = np.array([[1000.0, 1001.0, 999.0]])
    out = forward(nnlua, "nn.LogSoftMax()", x, np.float64)
    np.testing.assert_allclose(out, np.log(softmax(x, 1)))


@pytest.mark.parametrize("dtype", DTYPES)
def test_linear(nnlua, dtype):
    r = rng(1)
    W, b = r.standard_normal((3, 5)), r.standard_normal(3)
    x = r.standard_normal((4, 5))
    out = forward(nnlua, "nn.Linear(5, 3)", x, dtype, {"weight": W, "bias": b})
    c = lambda a: a.astype(dtype).astype(np.float64)
    np.testing.assert_allclose(out, c(x) @ c(W).T + c(b), **tol(dtype))
    out1 = forward(nnlua, "nn.Linear(5, 3)", x[1], dtype, {"weight": W, "bias": b})
    np.testing.assert_allclose(out1, c(x[1]) @ c(W).T + c(b), **tol(dtype))


@pytest.mark.parametrize("ctor", ["nn.Linear(5, 3):noBias()", "nn.Linear(5, 3, false)"])
def test_linear_without_bias(nnlua, ctor):
    r = rng(2)
    W, x = r.standard_normal((3, 5)), r.standard_normal((4, 5))
    out = forward(nnlua, ctor, x, np.float64, {"weight": W})
    np.testing.assert_allclose(out, x @ W.T)
    assert nnlua.eval(f"tostring({ctor})") == "nn.Linear(5 -> 3) without bias"


def test_linear_batch_size_changes(nnlua):
    r = rng(3)
    W, b = r.standard_normal((2, 3)), r.standard_normal(2)
    f = nnlua.eval("function(W, b) local m = nn.Linear(3, 2); m.weight = W; m.bias = b; "
                   "return function(x) return m:forward(x) end end")(W, b)
    for n in (4, 1, 7, 4):
        x = r.standard_normal((n, 3))
        np.testing.assert_allclose(f(x), x @ W.T + b)


# Big enough for the one-call numpy path (sparktorch7._nn_ops.linear): 96 * 48 >= 4096.
# Sums of 96 float32 products of size ~1 cancel down to ~1e-2: absolute tolerance.
def linear_tol(dtype):
    return dict(rtol=1e-5, atol=2e-5) if dtype == np.float32 else tol(dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("bias", [True, False])
def test_linear_numpy_path(nnlua, dtype, bias):
    r = rng(4)
    W, b = r.standard_normal((48, 96)).astype(dtype), r.standard_normal(48).astype(dtype)
    x = r.standard_normal((64, 96)).astype(dtype)
    ctor = "nn.Linear(96, 48)" if bias else "nn.Linear(96, 48):noBias()"
    fields = {"weight": W, "bias": b} if bias else {"weight": W}
    c = lambda a: a.astype(np.float64)
    ref = c(x) @ c(W).T + (c(b) if bias else 0)
    out = forward(nnlua, ctor, x, dtype, fields)
    assert out.dtype == dtype
    np.testing.assert_allclose(out, ref, **linear_tol(dtype))
    # Torch7's order in the layer's precision: the product, then the bias
    np.testing.assert_array_equal(out, x @ W.T + b if bias else x @ W.T)
    out1 = forward(nnlua, ctor, x[5], dtype, fields)
    np.testing.assert_allclose(out1, ref[5], **linear_tol(dtype))


@pytest.mark.parametrize("dtype", DTYPES)
def test_linear_numpy_path_strided_input_and_reused_output(nnlua, dtype):
    r = rng(5)
    W, b = r.standard_normal((48, 96)), r.standard_normal(48)
    f = nnlua.eval("""function(W, b, x, tname)
        local m = nn.Linear(96, 48); m.weight:copy(W); m.bias:copy(b); m:type(tname)
        local xt = x:type(tname):t()               -- 64 x 96, not contiguous
        assert(not xt:isContiguous())
        local y1 = m:forward(xt)
        local first = y1:clone()
        local y2 = m:forward(xt:narrow(1, 2, 30))  -- a smaller batch in the same tensor
        local same = torch.pointer(y1) == torch.pointer(y2)
        local second = y2:clone()
        local col = x:type(tname):select(2, 4)     -- a vector with stride 64
        assert(not col:isContiguous())
        return first, second, m:forward(col):clone(), same, torch.type(y2)
    end""")
    x = r.standard_normal((96, 64))
    first, second, vec, same, tname = f(W, b, x, TNAME[dtype])
    c = lambda a: a.astype(dtype).astype(np.float64)
    xt = c(x.T)
    np.testing.assert_allclose(first, xt @ c(W).T + c(b), **linear_tol(dtype))
    np.testing.assert_allclose(second, xt[1:31] @ c(W).T + c(b), **linear_tol(dtype))
    np.testing.assert_allclose(vec, c(W) @ xt[3] + c(b), **linear_tol(dtype))
    assert same and tname == TNAME[dtype]


def test_linear_numpy_and_lua_paths_agree(nnlua):
    # the Lua loops (what a bare luajit without the numpy bridge runs, or a layer below
    # nn.kernels' threshold) and the numpy call
    r = rng(6)
    W, b, x = r.standard_normal((48, 96)), r.standard_normal(48), r.standard_normal((64, 96))
    f = nnlua.eval("""function(W, b, x)
        local m = nn.Linear(96, 48); m.weight:copy(W); m.bias:copy(b)
        local viaNumpy = m:forward(x):clone()
        local min = nn.kernels.thresholds.linear
        nn.kernels.thresholds.linear = math.huge
        local ok, viaLua = pcall(function() return m:forward(x):clone() end)
        nn.kernels.thresholds.linear = min
        assert(ok, viaLua)
        return viaNumpy, viaLua
    end""")
    a, b_ = f(W, b, x)
    np.testing.assert_allclose(a, b_, rtol=1e-12, atol=1e-12)


def test_linear_rejects_bias_of_another_type(nnlua):
    with pytest.raises(st.LuaError, match=r"<nn.Linear> input is a torch.DoubleTensor but the module "
                                          r"holds torch.FloatTensor"):
        nnlua.eval("(function() local m = nn.Linear(5, 3); m.bias = m.bias:float(); "
                   "return m:forward(torch.zeros(2, 5)) end)()")


def test_linear_rejects_bad_input(nnlua):
    with pytest.raises(st.LuaError, match=r"<nn.Linear> size mismatch: input has 4 features, the module expects 5"):
        nnlua.eval("nn.Linear(5, 3):forward(torch.zeros(2, 4))")
    with pytest.raises(st.LuaError, match=r"<nn.Linear> input must be 1D or 2D, not 3D"):
        nnlua.eval("nn.Linear(5, 3):forward(torch.zeros(2, 4, 5))")
    with pytest.raises(st.LuaError, match=r"<nn.Linear> input is a torch.FloatTensor"):
        nnlua.eval("nn.Linear(5, 3):forward(torch.FloatTensor(2, 5):zero())")


@pytest.mark.parametrize("dtype", DTYPES)
def test_bilinear(nnlua, dtype):
    r = rng(4)
    W, b = r.standard_normal((3, 4, 5)), r.standard_normal(3)
    x1, x2 = r.standard_normal((6, 4)), r.standard_normal((6, 5))
    out = forward(nnlua, "nn.Bilinear(4, 5, 3)", [x1, x2], dtype, {"weight": W, "bias": b})
    c = lambda a: a.astype(dtype).astype(np.float64)
    ref = np.einsum("bi,kij,bj->bk", c(x1), c(W), c(x2)) + c(b)
    np.testing.assert_allclose(out, ref, **tol(dtype))


@pytest.mark.parametrize("dtype", DTYPES)
def test_lookup_table(nnlua, dtype):
    r = rng(5)
    W = r.standard_normal((10, 4))
    idx = np.array([3, 1, 10, 3], dtype=np.int64)
    out = forward(nnlua, "nn.LookupTable(10, 4)", idx, dtype, {"weight": W})
    np.testing.assert_allclose(out, W.astype(dtype)[idx - 1], **tol(dtype))
    idx2 = np.array([[1, 2, 3], [4, 5, 6]], dtype=np.int64)
    out2 = forward(nnlua, "nn.LookupTable(10, 4)", idx2, dtype, {"weight": W})
    assert out2.shape == (2, 3, 4)
    np.testing.assert_allclose(out2, W.astype(dtype)[idx2 - 1], **tol(dtype))
    # indices given as a floating tensor work too
    out3 = forward(nnlua, "nn.LookupTable(10, 4)", idx.astype(np.float64), dtype, {"weight": W})
    np.testing.assert_allclose(out3, W.astype(dtype)[idx - 1], **tol(dtype))


def test_lookup_table_max_norm(nnlua):
    W = np.array([[3.0, 4.0], [0.3, 0.4], [6.0, 8.0]])
    out = forward(nnlua, "nn.LookupTable(3, 2, 0, 1)", np.array([1, 2], dtype=np.int64), np.float64, {"weight": W})
    np.testing.assert_allclose(out, [[0.6, 0.8], [0.3, 0.4]], rtol=1e-6)


def test_lookup_table_index_out_of_range(nnlua):
    with pytest.raises(st.LuaError, match=r"<nn.LookupTable> index 11 out of range \[1, 10\]"):
        nnlua.eval("nn.LookupTable(10, 4):forward(torch.LongTensor({1, 11}))")


@pytest.mark.parametrize("dtype", DTYPES)
def test_add_mul_cmul_cadd(nnlua, dtype):
    r = rng(6)
    x = r.standard_normal((3, 4))
    c = lambda a: a.astype(dtype).astype(np.float64)
    b = r.standard_normal(4)
    np.testing.assert_allclose(forward(nnlua, "nn.Add(4)", x, dtype, {"bias": b}), c(x) + c(b), **tol(dtype))
    np.testing.assert_allclose(forward(nnlua, "nn.Add(4)", x[0], dtype, {"bias": b}), c(x[0]) + c(b), **tol(dtype))
    np.testing.assert_allclose(forward(nnlua, "nn.Add(1, true)", x, dtype, {"bias": b[:1]}), c(x) + c(b[0]), **tol(dtype))
    w = r.standard_normal(1)
    np.testing.assert_allclose(forward(nnlua, "nn.Mul()", x, dtype, {"weight": w}), c(x) * c(w), **tol(dtype))
    np.testing.assert_allclose(forward(nnlua, "nn.CMul(4)", x, dtype, {"weight": b}), c(x) * c(b), **tol(dtype))
    np.testing.assert_allclose(forward(nnlua, "nn.CMul(4)", x[1], dtype, {"weight": b}), c(x[1]) * c(b), **tol(dtype))
    wb = r.standard_normal((1, 4))
    np.testing.assert_allclose(forward(nnlua, "nn.CMul(1, 4)", x, dtype, {"weight": wb}), c(x) * c(wb), **tol(dtype))
    x3 = r.standard_normal((2, 3, 4))
    w3 = r.standard_normal((1, 3, 1))
    np.testing.assert_allclose(forward(nnlua, "nn.CAdd(1, 3, 1)", x3, dtype, {"bias": w3}), c(x3) + c(w3), **tol(dtype))
    np.testing.assert_allclose(forward(nnlua, "nn.CAdd(3, 4)", x3, dtype, {"bias": x3[0]}), c(x3) + c(x3[0]), **tol(dtype))


@pytest.mark.parametrize("dtype", DTYPES)
def test_prelu(nnlua, dtype):
    r = rng(7)
    x = r.standard_normal((2, 3, 4, 5))
    w = r.uniform(0, 1, 3)
    c = lambda a: a.astype(dtype).astype(np.float64)
    ref = np.where(c(x) > 0, c(x), c(x) * c(w)[None, :, None, None])
    np.testing.assert_allclose(forward(nnlua, "nn.PReLU(3)", x, dtype, {"weight": w}), ref, **tol(dtype))
    np.testing.assert_allclose(forward(nnlua, "nn.PReLU(3)", x[0], dtype, {"weight": w}), ref[0], **tol(dtype))
    x2 = r.standard_normal((4, 3))
    np.testing.assert_allclose(forward(nnlua, "nn.PReLU(3)", x2, dtype, {"weight": w}),
                               np.where(c(x2) > 0, c(x2), c(x2) * c(w)), **tol(dtype))
    np.testing.assert_allclose(forward(nnlua, "nn.PReLU()", x2, dtype),
                               np.where(c(x2) > 0, c(x2), c(x2) * 0.25), **tol(dtype))


@pytest.mark.parametrize("dtype", DTYPES)
def test_batch_normalization_evaluate(nnlua, dtype):
    r = rng(8)
    x = r.standard_normal((5, 4))
    mean, var = r.standard_normal(4), r.uniform(0.5, 2, 4)
    w, b = r.standard_normal(4), r.standard_normal(4)
    fields = {"running_mean": mean, "running_var": var, "weight": w, "bias": b}
    c = lambda a: a.astype(dtype).astype(np.float64)
    ref = (c(x) - c(mean)) / np.sqrt(c(var) + 1e-5) * c(w) + c(b)
    out = forward(nnlua, "nn.BatchNormalization(4)", x, dtype, fields, setup="m:evaluate()")
    np.testing.assert_allclose(out, ref, **tol(dtype))
    out1 = forward(nnlua, "nn.BatchNormalization(4)", x[2], dtype, fields, setup="m:evaluate()")
    np.testing.assert_allclose(out1, ref[2], **tol(dtype))
    noaffine = forward(nnlua, "nn.BatchNormalization(4, 1e-3, 0.1, false)", x, dtype,
                       {"running_mean": mean, "running_var": var}, setup="m:evaluate()")
    np.testing.assert_allclose(noaffine, (c(x) - c(mean)) / np.sqrt(c(var) + 1e-3), **tol(dtype))


def test_batch_normalization_training_uses_batch_statistics(nnlua):
    x = rng(9).standard_normal((8, 3))
    out = forward(nnlua, "nn.BatchNormalization(3, 1e-5, 0.1, false)", x, np.float64)
    ref = (x - x.mean(0)) / np.sqrt(x.var(0) + 1e-5)
    np.testing.assert_allclose(out, ref, rtol=1e-10, atol=1e-12)


def test_batch_normalization_v1_running_std(nnlua):
    # version 1 files stored running_std = 1/sqrt(var + eps)
    f = nnlua.eval("""function(std)
        local m = nn.BatchNormalization(3)
        m.running_var = nil
        m.running_std = std
        m:backCompatibility(1)
        return m.running_var, m.running_std == nil
    end""")
    std = np.array([0.5, 1.0, 2.0])
    var, gone = f(std)
    np.testing.assert_allclose(var, 1 / std ** 2 - 1e-5)
    assert gone


@pytest.mark.parametrize("dtype", DTYPES)
def test_normalize(nnlua, dtype):
    x = rng(10).standard_normal((3, 5))
    c = lambda a: a.astype(dtype).astype(np.float64)
    for p, ctor in [(2, "nn.Normalize(2)"), (1, "nn.Normalize(1)"), (3, "nn.Normalize(3)")]:
        ref = c(x) / (np.sum(np.abs(c(x)) ** p, 1, keepdims=True) + 1e-10) ** (1 / p)
        np.testing.assert_allclose(forward(nnlua, ctor, x, dtype), ref, **tol(dtype))
        np.testing.assert_allclose(forward(nnlua, ctor, x[0], dtype), ref[0], **tol(dtype))
    ref = c(x) / (np.abs(c(x)).max(1, keepdims=True) + 1e-10)
    np.testing.assert_allclose(forward(nnlua, "nn.Normalize(math.huge)", x, dtype), ref, **tol(dtype))


@pytest.mark.parametrize("dtype", DTYPES)
def test_reductions(nnlua, dtype):
    x = rng(11).standard_normal((3, 4, 5))
    c = c_ = x.astype(dtype).astype(np.float64)
    t = tol(dtype)
    np.testing.assert_allclose(forward(nnlua, "nn.Sum(2)", x, dtype), c.sum(1), **t)
    np.testing.assert_allclose(forward(nnlua, "nn.Sum(-1)", x, dtype), c.sum(2), **t)
    np.testing.assert_allclose(forward(nnlua, "nn.Sum(1, 2)", x, dtype), c.sum(1), **t)
    np.testing.assert_allclose(forward(nnlua, "nn.Sum(1, 3)", x, dtype), c.sum(0), **t)
    np.testing.assert_allclose(forward(nnlua, "nn.Sum(2, nil, true, false)", x, dtype), c.mean(1, keepdims=True), **t)
    np.testing.assert_allclose(forward(nnlua, "nn.Mean(3)", x, dtype), c.mean(2), **t)
    np.testing.assert_allclose(forward(nnlua, "nn.Mean(1, 1)", x[0], dtype), c_[0].mean(1), **t)
    np.testing.assert_allclose(forward(nnlua, "nn.Mean(1, 1)", x[0, 0], dtype), [c_[0, 0].mean()], **t)
    np.testing.assert_allclose(forward(nnlua, "nn.Max(2)", x, dtype), c.max(1), **t)
    np.testing.assert_allclose(forward(nnlua, "nn.Min(1)", x, dtype), c.min(0), **t)
    np.testing.assert_allclose(forward(nnlua, "nn.Max(1, 1)", x[:, :, 0], dtype), c[:, :, 0].max(1), **t)
    one = forward(nnlua, "nn.Sum(1)", x[0, 0], dtype)
    assert one.shape == (1,)
    np.testing.assert_allclose(one, [c[0, 0].sum()], **t)


@pytest.mark.parametrize("dtype", DTYPES)
def test_products_and_distances(nnlua, dtype):
    r = rng(12)
    c = lambda a: a.astype(dtype).astype(np.float64)
    t = tol(dtype)
    a, b = r.standard_normal((4, 6)), r.standard_normal((4, 6))
    np.testing.assert_allclose(forward(nnlua, "nn.DotProduct()", [a, b], dtype), (c(a) * c(b)).sum(1), **t)
    np.testing.assert_allclose(forward(nnlua, "nn.DotProduct()", [a[0], b[0]], dtype), [(c(a[0]) * c(b[0])).sum()], **t)
    cos = (c(a) * c(b)).sum(1) / np.sqrt(((c(a) ** 2).sum(1) + 1e-12) * ((c(b) ** 2).sum(1) + 1e-12))
    np.testing.assert_allclose(forward(nnlua, "nn.CosineDistance()", [a, b], dtype), cos, **t)
    np.testing.assert_allclose(forward(nnlua, "nn.CosineDistance()", [a[1], b[1]], dtype), cos[1:2], **t)
    for p in (1, 2, 3):
        d = (np.abs(c(a) - c(b)) ** p).sum(1) ** (1 / p)
        np.testing.assert_allclose(forward(nnlua, f"nn.PairwiseDistance({p})", [a, b], dtype), d, **t)
        np.testing.assert_allclose(forward(nnlua, f"nn.PairwiseDistance({p})", [a[2], b[2]], dtype), d[2:3], **t)
    A, B = r.standard_normal((3, 4)), r.standard_normal((4, 5))
    np.testing.assert_allclose(forward(nnlua, "nn.MM()", [A, B], dtype), c(A) @ c(B), **t)
    np.testing.assert_allclose(forward(nnlua, "nn.MM(true, true)", [A.T.copy(), B.T.copy()], dtype), c(A) @ c(B), **t)
    A3, B3 = r.standard_normal((2, 3, 4)), r.standard_normal((2, 4, 5))
    np.testing.assert_allclose(forward(nnlua, "nn.MM()", [A3, B3], dtype), c(A3) @ c(B3), **t)
    np.testing.assert_allclose(forward(nnlua, "nn.MM(false, true)", [A3, B3.transpose(0, 2, 1).copy()], dtype),
                               c(A3) @ c(B3), **t)
    v = r.standard_normal(4)
    np.testing.assert_allclose(forward(nnlua, "nn.MV()", [A, v], dtype), c(A) @ c(v), **t)
    np.testing.assert_allclose(forward(nnlua, "nn.MV(true)", [A.T.copy(), v], dtype), c(A) @ c(v), **t)
    V = r.standard_normal((2, 4))
    np.testing.assert_allclose(forward(nnlua, "nn.MV()", [A3, V], dtype), np.einsum("bij,bj->bi", c(A3), c(V)), **t)


@pytest.mark.parametrize("dtype", DTYPES)
def test_shapes(nnlua, dtype):
    x = rng(13).standard_normal((2, 3, 4))
    c = x.astype(dtype)
    eq = np.testing.assert_array_equal
    eq(forward(nnlua, "nn.View(12)", x, dtype), c.reshape(2, 12))
    eq(forward(nnlua, "nn.View(12)", x[0], dtype), c[0].reshape(12))
    eq(forward(nnlua, "nn.View(-1, 4)", x, dtype), c.reshape(6, 4))
    eq(forward(nnlua, "nn.View(3, 4):setNumInputDims(2)", x, dtype), c)
    eq(forward(nnlua, "nn.View(4, 3)", x[0], dtype), c[0].reshape(4, 3))
    eq(forward(nnlua, "nn.Reshape(12)", x, dtype), c.reshape(2, 12))
    eq(forward(nnlua, "nn.Reshape(12)", x[0], dtype), c[0].reshape(12))
    eq(forward(nnlua, "nn.Reshape(6, 4, false)", x, dtype), c.reshape(6, 4))
    eq(forward(nnlua, "nn.Transpose({1, 3})", x, dtype), c.transpose(2, 1, 0))
    eq(forward(nnlua, "nn.Transpose({1, 2}, {2, 3})", x, dtype), c.transpose(1, 2, 0))
    eq(forward(nnlua, "nn.Narrow(2, 2, 2)", x, dtype), c[:, 1:3])
    # a negative offset keeps all but the last `length` elements (Torch7)
    eq(forward(nnlua, "nn.Narrow(-1, -2, 2)", x, dtype), c[:, :, 0:2])
    eq(forward(nnlua, "nn.Narrow(3, 2, -1)", x, dtype), c[:, :, 1:])
    eq(forward(nnlua, "nn.Narrow(3, 2, -2)", x, dtype), c[:, :, 1:3])
    eq(forward(nnlua, "nn.Narrow(2, -1)", x, dtype), c[:, :2])
    eq(forward(nnlua, "nn.Select(2, 3)", x, dtype), c[:, 2])
    eq(forward(nnlua, "nn.Select(-1, -1)", x, dtype), c[:, :, -1])
    y = x.reshape(2, 1, 3, 1, 4)
    eq(forward(nnlua, "nn.Squeeze()", y, dtype), c.reshape(2, 3, 4))
    eq(forward(nnlua, "nn.Squeeze(2)", y, dtype), c.reshape(2, 3, 1, 4))
    eq(forward(nnlua, "nn.Squeeze(1, 4)", y, dtype), c.reshape(2, 3, 1, 4))
    eq(forward(nnlua, "nn.Squeeze(nil, 2)", x[:1, :1], dtype), c[:1, 0])
    eq(forward(nnlua, "nn.Unsqueeze(1)", x, dtype), c[None])
    eq(forward(nnlua, "nn.Unsqueeze(4)", x, dtype), c[..., None])
    eq(forward(nnlua, "nn.Unsqueeze(1, 2)", x, dtype), c[:, None])
    eq(forward(nnlua, "nn.Replicate(3)", x[0], dtype), np.broadcast_to(c[0], (3, 3, 4)))
    eq(forward(nnlua, "nn.Replicate(5, 2)", x[0], dtype), np.broadcast_to(c[0][:, None], (3, 5, 4)))
    eq(forward(nnlua, "nn.Replicate(5, 1, 2)", x, dtype), np.broadcast_to(c[:, None], (2, 5, 3, 4)))
    eq(forward(nnlua, "nn.Padding(1, 2)", x[0], dtype), np.concatenate([c[0], np.zeros((2, 4), dtype)], 0))
    eq(forward(nnlua, "nn.Padding(1, -2, nil, 7)", x[0], dtype), np.concatenate([np.full((2, 4), 7, dtype), c[0]], 0))
    # with nInputDim 2, a 3D input is a batch: dimension 2 is dimension 3
    eq(forward(nnlua, "nn.Padding(2, -1, 2, 0, 3)", x, dtype), np.insert(c, 2, 0, axis=2))
    eq(forward(nnlua, "nn.Padding(2, 1, 2, 5, 2)", x, dtype), np.insert(c, 3, 5, axis=2))
    idx = np.array([3, 1, 3], dtype=np.int64)
    eq(forward(nnlua, "nn.Index(2)", [x, idx], dtype), c[:, idx - 1])


@pytest.mark.parametrize("dtype", DTYPES)
def test_table_modules(nnlua, dtype):
    r = rng(14)
    a, b, c3 = (r.standard_normal((3, 4)) for _ in range(3))
    c = lambda v: v.astype(dtype).astype(np.float64)
    t = tol(dtype)
    np.testing.assert_allclose(forward(nnlua, "nn.CAddTable()", [a, b, c3], dtype), c(a) + c(b) + c(c3), **t)
    np.testing.assert_allclose(forward(nnlua, "nn.CSubTable()", [a, b], dtype), c(a) - c(b), **t)
    np.testing.assert_allclose(forward(nnlua, "nn.CMulTable()", [a, b, c3], dtype), c(a) * c(b) * c(c3), **t)
    np.testing.assert_allclose(forward(nnlua, "nn.CDivTable()", [a, b], dtype), c(a) / c(b), **t)
    np.testing.assert_allclose(forward(nnlua, "nn.CMaxTable()", [a, b, c3], dtype), np.maximum(np.maximum(c(a), c(b)), c(c3)), **t)
    np.testing.assert_allclose(forward(nnlua, "nn.CMinTable()", [a, b], dtype), np.minimum(c(a), c(b)), **t)
    np.testing.assert_allclose(forward(nnlua, "nn.CAddTable()", [a[0], b[0]], dtype), c(a[0]) + c(b[0]), **t)
    np.testing.assert_allclose(forward(nnlua, "nn.JoinTable(2)", [a, b], dtype), np.concatenate([c(a), c(b)], 1), **t)
    np.testing.assert_allclose(forward(nnlua, "nn.JoinTable(1)", [a, b], dtype), np.concatenate([c(a), c(b)], 0), **t)
    np.testing.assert_allclose(forward(nnlua, "nn.JoinTable(-1)", [a, b], dtype), np.concatenate([c(a), c(b)], 1), **t)
    np.testing.assert_allclose(forward(nnlua, "nn.JoinTable(1, 1)", [a, b], dtype), np.concatenate([c(a), c(b)], 1), **t)
    np.testing.assert_allclose(forward(nnlua, "nn.JoinTable(1, 1)", [a[0], b[0]], dtype), np.concatenate([c(a[0]), c(b[0])]), **t)
    parts = forward(nnlua, "nn.SplitTable(2)", a, dtype)
    assert len(parts) == 4
    for i in range(4):
        np.testing.assert_allclose(parts[i], c(a)[:, i], **t)
    parts = forward(nnlua, "nn.SplitTable(1, 1)", a, dtype)
    assert len(parts) == 4
    parts = forward(nnlua, "nn.SplitTable(-2)", a, dtype)
    assert len(parts) == 3
    np.testing.assert_allclose(forward(nnlua, "nn.SelectTable(2)", [a, b, c3], dtype), c(b), **t)
    np.testing.assert_allclose(forward(nnlua, "nn.SelectTable(-1)", [a, b, c3], dtype), c(c3), **t)
    narrowed = forward(nnlua, "nn.NarrowTable(2, 2)", [a, b, c3], dtype)
    assert len(narrowed) == 2
    np.testing.assert_allclose(narrowed[1], c(c3), **t)
    flat = forward(nnlua, "nn.FlattenTable()", [a, [b, [c3]]], dtype)
    assert len(flat) == 3
    np.testing.assert_allclose(flat[2], c(c3), **t)


def test_table_module_errors(nnlua):
    with pytest.raises(st.LuaError, match=r"<nn.CAddTable> tensor 2 does not have the size of tensor 1"):
        nnlua.eval("nn.CAddTable():forward({torch.zeros(3), torch.zeros(4)})")
    with pytest.raises(st.LuaError, match=r"<nn.SelectTable> index 5 does not exist"):
        nnlua.eval("nn.SelectTable(5):forward({torch.zeros(3)})")


def test_dropout_training_drops_and_scales(nnlua):
    x = np.ones((200, 50))
    out = forward(nnlua, "nn.Dropout(0.5)", x, np.float64)
    assert set(np.unique(out)) <= {0.0, 2.0}
    assert 0.4 < (out == 0).mean() < 0.6
    out = forward(nnlua, "nn.Dropout(0.5, true)", x, np.float64)
    assert set(np.unique(out)) <= {0.0, 1.0}


# nn.SpatialDropout and nn.VolumetricDropout
@pytest.mark.parametrize("name,nd", [("SpatialDropout", 4), ("VolumetricDropout", 5)])
def test_spatial_volumetric_dropout(nnlua, name, nd):
    x = rng(15).standard_normal((2, 6) + (3,) * (nd - 2))
    np.testing.assert_allclose(forward(nnlua, f"nn.{name}(0.25)", x, np.float64, setup="m:evaluate()"), 0.75 * x)
    np.testing.assert_allclose(forward(nnlua, f"nn.{name}(0.25)", x[0], np.float64, setup="m:evaluate()"), 0.75 * x[0])
    out = forward(nnlua, f"nn.{name}(0.5)", np.ones((4, 50) + (2,) * (nd - 2)), np.float64)
    # whole channels are dropped together
    per_channel = out.reshape(4, 50, -1)
    assert np.all(per_channel.min(2) == per_channel.max(2))


def test_rrelu_training_slopes_are_in_range(nnlua):
    x = -np.ones(1000)
    out = forward(nnlua, "nn.RReLU(0.1, 0.3)", x, np.float64)
    assert np.all(out <= -0.1) and np.all(out >= -0.3)


def test_dropout_masks_follow_torch_manual_seed(nnlua):
    f = nnlua.eval("""function(x)
        torch.manualSeed(7)
        local a = nn.Dropout(0.5):forward(x):clone()
        local r = nn.RReLU():forward(-x):clone()
        torch.manualSeed(7)
        local b = nn.Dropout(0.5):forward(x):clone()
        local s = nn.RReLU():forward(-x):clone()
        return a, b, r, s
    end""")
    a, b, r, s = f(np.ones(100))
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(r, s)


def test_empty_batches_give_empty_outputs(nnlua):
    f = nnlua.eval("""function(x)
        local m = nn.Sequential():add(nn.Linear(3, 4)):add(nn.BatchNormalization(4)):add(nn.ReLU())
                                 :add(nn.LogSoftMax())
        m:evaluate()
        return m:forward(x):nElement()
    end""")
    assert f(np.zeros((0, 3))) == 0


def test_documented_examples_of_view_reshape_narrow(nnlua):
    # the examples of torch/nn's doc/simple.md
    size = nnlua.eval("function(x) return nn.View(-1):setNumInputDims(2):forward(x):size():totable() end")
    assert list(size(np.zeros((2, 3))).values()) == [6]
    assert list(size(np.zeros((5, 2, 3))).values()) == [5, 6]
    x = np.arange(1.0, 17.0).reshape(4, 4)
    np.testing.assert_array_equal(forward(nnlua, "nn.Reshape(2, 8)", x, np.float64), x.reshape(2, 8))
    np.testing.assert_array_equal(forward(nnlua, "nn.Reshape(16)", x, np.float64), x.reshape(16))
    y = np.zeros((1, 4))
    assert forward(nnlua, "nn.Reshape(4)", y, np.float64).shape == (1, 4)
    assert forward(nnlua, "nn.Reshape(4, false)", y, np.float64).shape == (4,)
    z = rng(30).random((4, 5))
    np.testing.assert_array_equal(forward(nnlua, "nn.Narrow(1, 2, -1)", z, np.float64), z[1:])
    np.testing.assert_array_equal(forward(nnlua, "nn.Narrow(1, 2, -2)", z, np.float64), z[1:3])
    np.testing.assert_array_equal(forward(nnlua, "nn.Narrow(2, 2, -2)", z, np.float64), z[:, 1:4])
    np.testing.assert_array_equal(forward(nnlua, "nn.View(2, 8)", x, np.float64), x.reshape(2, 8))


def test_a_contiguous_copy_lives_as_long_as_its_source(nnlua):
    # nn loops read through t:data() of pointwise.contiguous(x): the copy of a non-contiguous
    # x must not be collected while x (held by the caller) lives, nor outlive x
    alive_with_source, gone_without = nnlua.execute("""
        local pw = require 'nn.pointwise'
        local x = torch.randn(4, 6):t()
        local probe = setmetatable({pw.contiguous(x)}, {__mode = 'v'})
        collectgarbage(); collectgarbage()
        local kept = probe[1] ~= nil and probe[1]:isContiguous() and probe[1]:equal(x)
        x = nil
        collectgarbage(); collectgarbage()
        return kept, probe[1] == nil
    """)
    assert alive_with_source is True and gone_without is True
