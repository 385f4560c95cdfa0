"""The rest of torch/nn's module classes (issue #12, part A): each forward against a NumPy
reference computed here, in float and double; gradients against finite differences in double
(nn.Jacobian for tensor inputs, tests/gradcheck.py for table inputs); torch.save/torch.load
round trips of the modules with parameters or state; and the forward bugs found against
Torch7 (Narrow, AddConstant/MulConstant, FlattenTable, OneHot, LinearWeightNorm)."""
import re

import numpy as np
import pytest

import sparktorch7 as st

import gradcheck
import t7craft
from test_nn_modules import DTYPES, TNAME, cast, rng, tol

PRELUDE = r"""
require 'nn'
torch.setdefaulttensortype('torch.DoubleTensor')

-- largest finite-difference errors of one module: the input and each named parameter
-- (accGradParameters, and accUpdateGradParameters when `update` is set)
function jacobians(m, x, params, update)
   local res = {input = nn.Jacobian.testJacobian(m, x)}
   for _, p in ipairs(params or {}) do
      res[p[1]] = nn.Jacobian.testJacobianParameters(m, x, m[p[1]], m[p[2]])
      if update then
         res[p[1] .. ' update'] = nn.Jacobian.testJacobianUpdateParameters(m, x, m[p[1]])
      end
   end
   return res
end

function roundtrip(m, path)
   torch.save(path, m)
   return torch.load(path)
end

-- the module of ctor with its fields set, converted to tname, and forward(x)
function built(ctor, fields, tname)
   local m = ctor()
   for k, v in pairs(fields or {}) do m[k] = v end
   m:type(tname)
   return m
end
"""

JAC_TOL = 1e-6


@pytest.fixture
def lua():
    state = st.LuaState()
    state.execute(PRELUDE)
    gradcheck.install(state)
    yield state
    state.close()


def fn(lua, body):
    """A Lua function of the given body (its arguments are ...)."""
    return lua.eval("function(...) " + body + " end")


def assert_small(errs, limit=JAC_TOL):
    errs = dict(errs)
    assert errs, "no gradient was checked"
    bad = {k: v for k, v in errs.items() if not v < limit}
    assert not bad, f"finite-difference errors too large: {bad}"


def c(a, dtype):
    """a rounded to dtype, computed with in double: the reference sees what the module sees."""
    return np.asarray(a).astype(dtype).astype(np.float64)


# ---------------------------------------------------------------------- WeightNorm
@pytest.mark.parametrize("dtype", DTYPES)
def test_weight_norm_forward_is_a_linear_layer_of_g_v_over_its_norm(lua, dtype):
    r = rng(1)
    v, g, b = r.standard_normal((3, 5)), r.uniform(0.5, 2, 3), r.standard_normal(3)
    x = r.standard_normal((4, 5))
    f = fn(lua, """local v, g, b, x, tname = ...
        local m = nn.WeightNorm(nn.Linear(5, 3)); m.v:copy(v); m.g:copy(g); m.bias:copy(b)
        m:type(tname)
        return m:forward(x:type(tname)):clone(), m.weight:clone(), m.modules[1].weight == m.weight""")
    out, w, shared = f(v, g, b, x, TNAME[dtype])
    cv = c(v, dtype)
    norm = np.sqrt((cv ** 2).sum(1, keepdims=True) + 1e-4)
    W = c(g, dtype)[:, None] * cv / norm
    np.testing.assert_allclose(w, W, **tol(dtype))
    np.testing.assert_allclose(out, c(x, dtype) @ W.T + c(b, dtype), **tol(dtype))
    assert shared is True


@pytest.mark.parametrize("dtype", DTYPES)
def test_weight_norm_of_another_output_dimension_normalises_those_slices(lua, dtype):
    # outputDim 2 of a Linear's 3x5 weight: each column has its own length g
    r = rng(2)
    x = r.standard_normal((2, 5))
    f = fn(lua, """local x, tname = ...
        torch.manualSeed(3)
        local m = nn.WeightNorm(nn.Linear(5, 3), 2)
        m:type(tname)
        return m:forward(x:type(tname)):clone(), m.v:clone(), m.g:clone(), m.bias:clone()""")
    out, v, g, b = f(x, TNAME[dtype])
    assert v.shape == (5, 3) and g.size == 5
    # resetInit: g is the norm of each row of v (w then equals v up to the 1e-4)
    np.testing.assert_allclose(g.reshape(5), np.sqrt((v.astype(np.float64) ** 2).sum(1)), **tol(dtype))
    cv = c(v, dtype)
    W = (c(g, dtype).reshape(5, 1) * cv / np.sqrt((cv ** 2).sum(1, keepdims=True) + 1e-4)).T   # 3 x 5
    np.testing.assert_allclose(out, c(x, dtype) @ W.T + c(b, dtype), **tol(dtype))
    np.testing.assert_array_equal(b, 0)


def test_weight_norm_gradients_by_finite_differences(lua):
    f = fn(lua, """torch.manualSeed(4)
        local lin = nn.WeightNorm(nn.Linear(4, 3))
        local a = jacobians(lin, torch.randn(5, 4), {{'v', 'gradV'}, {'g', 'gradG'}, {'bias', 'gradBias'}}, true)
        a.single = nn.Jacobian.testJacobian(lin, torch.randn(4))
        local conv = nn.WeightNorm(nn.SpatialConvolution(2, 3, 3, 3), 2)
        local b = jacobians(conv, torch.randn(2, 5, 5), {{'v', 'gradV'}, {'g', 'gradG'}, {'bias', 'gradBias'}}, true)
        return a, b""")
    a, b = f()
    assert_small(a)
    assert_small(b)
    assert {"input", "v", "g", "bias", "v update", "g update", "bias update", "single"} <= set(a)


@pytest.mark.parametrize("ctor,change,message", [
    ("nn.WeightNorm(nn.Linear(3, 2))", "m.v = nil", "nn.WeightNorm.v: expected a tensor"),
    ("nn.WeightNorm(nn.Linear(3, 2))", "m.g = torch.randn(3)", "nn.WeightNorm.g: expected a tensor of 2 elements"),
    ("nn.IndexLinear(4, 2)", "m.normalize = 2", "nn.IndexLinear.normalize: expected one of 0, 4"),
    ("nn.IndexLinear(4, 2)", "m.outputSize = 3", "nn.IndexLinear.outputSize: expected outputSize + normalize == weight:size(2)"),
    ("nn.Kmeans(3, 2)", "m.weight = torch.randn(3, 4)", "nn.Kmeans.weight: expected a tensor of size 3x2"),
    ("nn.PartialLinear(3, 4)", "m.partition = torch.randn(2, 2)", "nn.PartialLinear.partition: expected a tensor of 1 dimension"),
    ("nn.GPU(nn.Linear(2, 2), 1)", "m.device = 'one'", "nn.GPU.device: expected an integer"),
    ("nn.WhiteNoise(0, 1)", "m.std = -1", "nn.WhiteNoise.std: expected a number >= 0"),
    ("nn.Profile(nn.Tanh(), 5)", "m.timer = 3", "nn.Profile.timer: expected a torch.Timer"),
])
def test_files_of_bad_fields_are_refused_naming_the_field(lua, tmp_path, ctor, change, message):
    path = str(tmp_path / "m.t7")
    fn(lua, "local make, change, path = ...; local m = make(); change(m); torch.save(path, m)")(
        lua.eval("function() return " + ctor + " end"), lua.eval("function(m) " + change + " end"), path)
    with pytest.raises(st.T7FormatError, match=re.escape(message)):
        lua.eval("torch.load")(path)


def test_weight_norm_accumulates_and_steps_v_and_g(lua):
    # two backward calls add up; updateParameters moves v and g by -lr times their gradients
    f = fn(lua, """torch.manualSeed(5)
        local m = nn.WeightNorm(nn.Linear(4, 2))
        local x, go = torch.randn(3, 4), torch.randn(3, 2)
        m:zeroGradParameters(); m:forward(x); m:backward(x, go)
        local once = m.gradV:clone()
        m:forward(x); m:backward(x, go)
        local v0, g0, gv, gg = m.v:clone(), m.g:clone(), m.gradV:clone(), m.gradG:clone()
        m:updateParameters(0.1)
        return once, gv, m.v - v0, m.g - g0, gg""")
    once, twice, dv, dg, gg = f()
    np.testing.assert_allclose(twice, 2 * once, rtol=1e-12)
    np.testing.assert_allclose(dv, -0.1 * twice, rtol=1e-12)
    np.testing.assert_allclose(dg.reshape(-1), -0.1 * gg.reshape(-1), rtol=1e-12)
    assert np.abs(once).max() > 0


def test_weight_norm_evaluate_freezes_the_weight(lua):
    f = fn(lua, """torch.manualSeed(6)
        local m = nn.WeightNorm(nn.Linear(3, 2)); local x = torch.randn(3)
        m.v:mul(2); m:evaluate()
        local w = m.weight:clone()
        m.v:add(torch.randn(2, 3))      -- not seen until training again
        local a = m:forward(x):clone(); local w2 = m.weight:clone()
        m:training(); m:forward(x)
        return w, w2, m.weight:clone(), m.g:clone(), m.v:clone()""")
    w, w2, w3, g, v = f()
    np.testing.assert_array_equal(w, w2)
    norm = np.sqrt((v ** 2).sum(1, keepdims=True) + 1e-4)
    np.testing.assert_allclose(w3, g.reshape(-1, 1) * v / norm, rtol=1e-12)
    assert not np.allclose(w, w3)


def test_weight_norm_file_leaves_the_weight_out_and_rebuilds_it(lua, tmp_path):
    path = str(tmp_path / "wn.t7")
    f = fn(lua, """local path = ...
        torch.manualSeed(7)
        local m = nn.WeightNorm(nn.SpatialConvolution(2, 3, 3, 3))
        local x = torch.randn(2, 2, 5, 5)
        local ref = m:forward(x):clone()
        local r = roundtrip(m, path)
        return ref, r:forward(x):clone(), r.weight == r.modules[1].weight, m.weight ~= nil""")
    ref, out, shared, kept = f(path)
    np.testing.assert_array_equal(out, ref)
    assert shared is True and kept is True
    data = t7craft.loads(open(path, "rb").read())
    assert data.fields.get("weight") is None and data.fields.get("v") is not None
    inner = data.fields.get("modules").get(1)
    assert inner.typename == "nn.SpatialConvolution" and inner.fields.get("weight") is None
    # the allowance is WeightNorm's: the same convolution alone without its weight is refused
    blob = t7craft.dumps(inner)
    (tmp_path / "conv.t7").write_bytes(blob)
    with pytest.raises(st.T7FormatError, match="nn.SpatialConvolution.weight: expected a tensor"):
        lua.eval("torch.load")(str(tmp_path / "conv.t7"))


# ---------------------------------------------------------------------- LayerNormalization
def layer_norm(x, gain, bias, eps=1e-10):
    n = x.shape[-1]
    d = x - x.mean(-1, keepdims=True)
    return np.sqrt(n) * d / np.sqrt((d ** 2).sum(-1, keepdims=True) + eps) * gain + bias


@pytest.mark.parametrize("dtype", DTYPES)
def test_layer_normalization_forward(lua, dtype):
    r = rng(8)
    x = r.standard_normal((4, 6)) * 3 + 1
    gain, bias = r.uniform(0.5, 2, 6), r.standard_normal(6)
    f = fn(lua, """local x, gain, bias, tname = ...
        local m = nn.LayerNormalization(6)
        local plain = m:clone():type(tname):forward(x:type(tname)):clone()
        m:get(5).weight:copy(gain); m:get(6).bias:copy(bias); m:type(tname)
        local noAffine = nn.LayerNormalization(6, nil, nil, false):type(tname)
        return plain, m:forward(x:type(tname)):clone(), noAffine:forward(x:type(tname)):clone(), #noAffine.modules""")
    plain, out, no_affine, n_modules = f(x, gain, bias, TNAME[dtype])
    cx = c(x, dtype)
    np.testing.assert_allclose(plain, layer_norm(cx, 1, 0), **tol(dtype))
    np.testing.assert_allclose(out, layer_norm(cx, c(gain, dtype), c(bias, dtype)), **tol(dtype))
    np.testing.assert_allclose(no_affine, layer_norm(cx, 1, 0), **tol(dtype))
    assert n_modules == 4
    # the initial bias; one sample
    out = fn(lua, "return nn.LayerNormalization(6, 0.5):forward(...)")(x)
    np.testing.assert_allclose(out, layer_norm(x, 1, 0.5), rtol=1e-11, atol=1e-12)
    one = fn(lua, "local x, tname = ...; return nn.LayerNormalization(6):type(tname):forward(x:type(tname))")(
        x[2], TNAME[dtype])
    np.testing.assert_allclose(one, layer_norm(cx[2], 1, 0), **tol(dtype))


def test_layer_normalization_gradients(lua):
    f = fn(lua, """torch.manualSeed(9)
        local m = nn.LayerNormalization(5)
        m:get(5).weight:uniform(0.5, 2); m:get(6).bias:normal()
        local r = {}
        for _, x in ipairs({torch.randn(3, 5), torch.randn(5)}) do
           local k = x:dim() .. 'D '
           r[k .. 'input'] = nn.Jacobian.testJacobian(m, x)
           r[k .. 'gain'] = nn.Jacobian.testJacobianParameters(m, x, m:get(5).weight, m:get(5).gradWeight)
           r[k .. 'bias'] = nn.Jacobian.testJacobianParameters(m, x, m:get(6).bias, m:get(6).gradBias)
        end
        return r""")
    assert_small(f())


# ---------------------------------------------------------------------- PartialLinear
@pytest.mark.parametrize("dtype", DTYPES)
def test_partial_linear_forward_computes_the_partition_columns(lua, dtype):
    r = rng(10)
    W, b, x = r.standard_normal((6, 4)), r.standard_normal(6), r.standard_normal((3, 4))
    part = np.array([5, 2, 6])
    f = fn(lua, """local W, b, x, part, tname = ...
        local m = nn.PartialLinear(4, 6)
        m.network:get(1):get(2).weight:copy(W); m.bias:copy(b:view(1, 6)); m:type(tname)
        local full = m:forward(x:type(tname)):clone()
        m:setPartition(part)
        local some = m:forward(x:type(tname)):clone()
        m:resetPartition()
        return full, some, m:forward(x:type(tname)):clone(), tostring(m)""")
    full, some, again, text = f(W, b, x, part.astype(np.float64), TNAME[dtype])
    ref = c(x, dtype) @ c(W, dtype).T + c(b, dtype)
    np.testing.assert_allclose(full, ref, **tol(dtype))
    np.testing.assert_allclose(some, ref[:, part - 1], **tol(dtype))
    np.testing.assert_allclose(again, ref, **tol(dtype))
    assert text == "nn.PartialLinear(4 -> 6)"


def test_partial_linear_gradients_and_file(lua, tmp_path):
    f = fn(lua, """local path = ...
        torch.manualSeed(11)
        local m = nn.PartialLinear(4, 6):setPartition(torch.Tensor({2, 5, 3}))
        m:reset()
        local x = torch.randn(3, 4)
        local lt = m.network:get(1):get(2)
        local r = {input = nn.Jacobian.testJacobian(m, x),
                   weight = nn.Jacobian.testJacobianParameters(m, x, lt.weight, lt.gradWeight),
                   bias = nn.Jacobian.testJacobianParameters(m, x, m.bias, m.gradBias)}
        -- only the partition's rows and columns get a gradient
        m:zeroGradParameters(); m:forward(x); m:backward(x, torch.randn(3, 3))
        local rows = lt.gradWeight:abs():sum(2):view(6)
        local cols = m.bias and m.gradBias:abs():view(6)
        local ref = m:forward(x):clone()
        local back = roundtrip(m, path)
        return r, rows, cols, ref, back:forward(x):clone(), back.partition""")
    errs, rows, cols, ref, out, part = f(str(tmp_path / "pl.t7"))
    assert_small(errs)
    assert set(np.nonzero(rows)[0]) == {1, 2, 4} and set(np.nonzero(cols)[0]) == {1, 2, 4}
    np.testing.assert_array_equal(out, ref)
    np.testing.assert_array_equal(part, [2, 5, 3])
    with pytest.raises(st.LuaError, match=r"<nn.PartialLinear> partition indices must be in \[1, 6\]"):
        lua.execute("nn.PartialLinear(4, 6):setPartition(torch.Tensor({0, 2}))")
    with pytest.raises(st.LuaError, match="<nn.PartialLinear> input must be a 2D batch of rows of 4 features, got 3x5"):
        lua.execute("nn.PartialLinear(4, 6):forward(torch.randn(3, 5))")


# ---------------------------------------------------------------------- IndexLinear
def sparse_samples(r, n_in, batch):
    keys, vals = [], []
    for j in range(batch):
        k = r.choice(n_in, size=r.integers(1, 5), replace=False) + 1
        keys.append(k.astype(np.int64))
        vals.append(r.standard_normal(k.size))
    return keys, vals


def dense(keys, vals, n_in):
    x = np.zeros((len(keys), n_in))
    for j, (k, v) in enumerate(zip(keys, vals)):
        x[j, k - 1] += v
    return x


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("n_out", [1, 3])
def test_index_linear_forward_in_its_three_layouts(lua, dtype, n_out):
    r = rng(12)
    W, b = r.standard_normal((7, n_out)), r.standard_normal(n_out)
    keys, vals = sparse_samples(r, 7, 3)
    f = fn(lua, """local W, b, keys, vals, fk, fv, sizes, tname = ...
        local m = nn.IndexLinear(7, W:size(2)); m.weight:copy(W); m.bias:copy(b); m:type(tname)
        local kt, vt = {}, {}
        for i = 1, #keys do kt[i] = keys[i]; vt[i] = vals[i]:type(tname) end
        local batch = m:forward({kt, vt}):clone()
        local flat = m:forward({fk, fv:type(tname), sizes}):clone()
        local one = m:forward({keys[2], vals[2]:type(tname)}):clone()
        return batch, flat, one""")
    args = [W, b, keys, [cast(v, dtype) for v in vals], np.concatenate(keys), np.concatenate(vals),
            np.array([k.size for k in keys], np.int64), TNAME[dtype]]
    batch, flat, one = f(*args)
    ref = dense([k for k in keys], [c(v, dtype) for v in vals], 7) @ c(W, dtype) + c(b, dtype)
    np.testing.assert_allclose(batch, ref, **tol(dtype))
    np.testing.assert_allclose(flat, ref, **tol(dtype))
    np.testing.assert_allclose(one, ref[1], **tol(dtype))


@pytest.mark.parametrize("n_out", [1, 3])
def test_index_linear_update_is_the_dense_gradient_step(lua, n_out):
    """accGradParameters (two calls) then updateParameters(lr) moves the weight and bias by
    -lr times the gradient of sum(output * R) over both batches, checked by finite differences
    of that sum; accUpdateGradParameters takes the same step in one call."""
    r = rng(13)
    W, b = r.standard_normal((6, n_out)), r.standard_normal(n_out)
    k1, v1 = sparse_samples(r, 6, 3)
    k2, v2 = sparse_samples(r, 6, 2)
    R1, R2 = r.standard_normal((3, n_out)), r.standard_normal((2, n_out))
    f = fn(lua, """local W, b, k1, v1, k2, v2, R1, R2, lr = ...
        local m = nn.IndexLinear(6, W:size(2)); m.weight:copy(W); m.bias:copy(b)
        m:zeroGradParameters()
        m:forward({k1, v1}); m:backward({k1, v1}, R1)
        m:forward({k2, v2}); m:backward({k2, v2}, R2)
        m:updateParameters(lr)
        local w1, b1 = m.weight:clone(), m.bias:clone()
        local u = nn.IndexLinear(6, W:size(2)); u.weight:copy(W); u.bias:copy(b)
        u:forward({k1, v1}); u:accUpdateGradParameters({k1, v1}, R1, lr)
        return w1, b1, u.weight:clone(), u.bias:clone(), m.running.counter""")
    lr = 0.1
    w1, b1, wu, bu, counter = f(W, b, k1, v1, k2, v2, R1, R2, lr)
    assert counter == 3

    def loss(Wp, bp, batches):
        return sum(((dense(k, v, 6) @ Wp + bp) * R).sum() for k, v, R in batches)

    both = [(k1, v1, R1), (k2, v2, R2)]
    eps = 1e-6
    gW = np.zeros_like(W)
    for i in np.ndindex(W.shape):
        d = np.zeros_like(W)
        d[i] = eps
        gW[i] = (loss(W + d, b, both) - loss(W - d, b, both)) / (2 * eps)
    gb = np.array([(loss(W, b + e, both) - loss(W, b - e, both)) / (2 * eps) for e in np.eye(n_out) * eps])
    np.testing.assert_allclose(w1, W - lr * gW, rtol=1e-8, atol=1e-9)
    np.testing.assert_allclose(b1, b - lr * gb, rtol=1e-8, atol=1e-9)
    only1 = [(k1, v1, R1)]
    gW1 = np.zeros_like(W)
    for i in np.ndindex(W.shape):
        d = np.zeros_like(W)
        d[i] = eps
        gW1[i] = (loss(W + d, b, only1) - loss(W - d, b, only1)) / (2 * eps)
    np.testing.assert_allclose(wu, W - lr * gW1, rtol=1e-8, atol=1e-9)
    np.testing.assert_allclose(bu, b - lr * R1.sum(0), rtol=1e-10)


def test_index_linear_grad_input_is_the_dense_input_gradient(lua):
    r = rng(14)
    W, b = r.standard_normal((5, 2)), r.standard_normal(2)
    keys, vals = sparse_samples(r, 5, 2)
    R = r.standard_normal((2, 2))
    f = fn(lua, """local W, b, keys, vals, R = ...
        local m = nn.IndexLinear(5, 2, true); m.weight:copy(W); m.bias:copy(b)
        m:forward({keys, vals})
        local g = m:backward({keys, vals}, R)
        local none = nn.IndexLinear(5, 2); none:forward({keys, vals})
        return g[1][1], g[2][1], g[2][2], #none:backward({keys, vals}, R)""")
    idx, g1, g2, n_none = f(W, b, keys, vals, R)
    np.testing.assert_array_equal(idx, np.arange(1, 6))
    # d sum(out * R) / d x_dense, by finite differences of the dense layer
    x = dense(keys, vals, 5)
    eps = 1e-6
    num = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        d = np.zeros_like(x)
        d[i] = eps
        num[i] = ((((x + d) @ W + b) * R).sum() - (((x - d) @ W + b) * R).sum()) / (2 * eps)
    np.testing.assert_allclose(np.stack([g1, g2]), num, rtol=1e-8, atol=1e-9)
    assert n_none == 0


@pytest.mark.parametrize("dtype", DTYPES)
def test_index_linear_normalize_divides_by_the_largest_value_seen(lua, dtype):
    r = rng(15)
    W = r.standard_normal((4, 2))
    b = r.standard_normal(2)
    feat_bias = r.standard_normal(4) * 0.1
    keys1, vals1 = [np.array([1, 3]), np.array([3, 4])], [np.array([2.0, -0.5]), np.array([1.5, 3.0])]
    keys2, vals2 = [np.array([1, 4])], [np.array([-4.0, 1.0])]
    f = fn(lua, """local W, b, fb, k1, v1, k2, v2, tname = ...
        local m = nn.IndexLinear(4, 2, false, nil, nil, nil, true)
        m.weight:narrow(2, 5, 2):copy(W); m.weight:select(2, 4):copy(fb); m.bias:copy(b); m:type(tname)
        local t = function(l) local o = {} for i, v in ipairs(l) do o[i] = v:type(tname) end return o end
        local a = m:forward({k1, t(v1)}):clone()
        local bb = m:forward({k2, t(v2)}):clone()
        m:evaluate()
        local e = m:forward({{torch.LongTensor({4})}, {torch.Tensor({10}):type(tname)}}):clone()
        return a, bb, e, m.weight:clone()""")
    a, bb, e, w = f(W, b, feat_bias, keys1, vals1, keys2, vals2, TNAME[dtype])
    cW, cb, cfb = c(W, dtype), c(b, dtype), c(feat_bias, dtype)
    seen = np.zeros(4)

    def run(keys, vals, train):
        out = []
        for k, v in zip(keys, vals):
            y = cb.copy()
            for key, val in zip(k, c(v, dtype)):
                i = key - 1
                if train:
                    seen[i] = max(seen[i], abs(val))
                nv = (np.sign(val) if abs(val) > seen[i] else val / seen[i]) + cfb[i]
                y += nv * cW[i]
            out.append(y)
        return np.array(out)

    np.testing.assert_allclose(a, run(keys1, vals1, True), **tol(dtype))
    np.testing.assert_allclose(bb, run(keys2, vals2, True), **tol(dtype))
    # in evaluation a value beyond the largest seen is clamped to its sign
    np.testing.assert_allclose(e, run([np.array([4])], [np.array([10.0])], False), **tol(dtype))
    np.testing.assert_allclose(w[:, 0], [4.0, 0, 1.5, 3.0], **tol(dtype))
    np.testing.assert_allclose(w[:, 1], 1 / np.array([4.0, np.inf, 1.5, 3.0]), **tol(dtype))


def test_index_linear_file_and_errors(lua, tmp_path):
    f = fn(lua, """local path = ...
        torch.manualSeed(16)
        local m = nn.IndexLinear(5, 3); m:reset()
        local x = {{torch.LongTensor({1, 5})}, {torch.Tensor({0.5, -1})}}
        local ref = m:forward(x):clone()
        local back = roundtrip(m, path)
        local out = back:forward(x):clone()
        local f = back:float()
        return ref, out, torch.type(f.weight), torch.type(f:forward(x))""")
    ref, out, wtype, otype = f(str(tmp_path / "il.t7"))
    np.testing.assert_array_equal(out, ref)
    assert wtype == otype == "torch.FloatTensor"
    with pytest.raises(st.LuaError, match="<nn.IndexLinear> key 6 is out of range: keys go from 1 to 5"):
        lua.execute("nn.IndexLinear(5, 3):forward({torch.LongTensor({6}), torch.Tensor({1})})")
    with pytest.raises(st.LuaError, match="<nn.IndexLinear> sample 1: keys and values must be 1D tensors of the same size"):
        lua.execute("nn.IndexLinear(5, 3):forward({{torch.LongTensor({1, 2})}, {torch.Tensor({1})}})")
    with pytest.raises(st.LuaError, match="<nn.IndexLinear> gradOutput must be a tensor of 1 x 3 elements"):
        lua.execute("local m = nn.IndexLinear(5, 3); m:forward({torch.LongTensor({1}), torch.Tensor({1})}); "
                    "m:backward({torch.LongTensor({1}), torch.Tensor({1})}, torch.randn(4))")


# ---------------------------------------------------------------------- Maxout
@pytest.mark.parametrize("dtype", DTYPES)
def test_maxout_forward_is_the_max_over_each_group(lua, dtype):
    r = rng(17)
    W, b = r.standard_normal((6, 4)), r.standard_normal(6)
    x = r.standard_normal((3, 4))
    f = fn(lua, """local W, b, x, tname = ...
        local m = nn.Maxout(4, 2, 3); m:get(1).weight:copy(W); m:get(1).bias:copy(b); m:type(tname)
        local p = nn.Maxout(4, 2, 3, nn.Tanh()); p:get(1).weight:copy(W); p:get(1).bias:copy(b); p:type(tname)
        return m:forward(x:type(tname)):clone(), m:forward(x[1]:type(tname)):clone(), p:forward(x:type(tname)):clone()""")
    batch, one, pre = f(W, b, x, TNAME[dtype])
    z = (c(x, dtype) @ c(W, dtype).T + c(b, dtype)).reshape(3, 3, 2)     # maxoutNumber x outputSize
    np.testing.assert_allclose(batch, z.max(1), **tol(dtype))
    np.testing.assert_allclose(one, z[0].max(0), **tol(dtype))
    np.testing.assert_allclose(pre, np.tanh(z).max(1), **tol(dtype))


def test_maxout_gradients(lua):
    f = fn(lua, """torch.manualSeed(18)
        local m = nn.Maxout(4, 2, 3); local x = torch.randn(5, 4)
        return {input = nn.Jacobian.testJacobian(m, x),
                weight = nn.Jacobian.testJacobianParameters(m, x, m:get(1).weight, m:get(1).gradWeight),
                bias = nn.Jacobian.testJacobianParameters(m, x, m:get(1).bias, m:get(1).gradBias)}""")
    assert_small(f())


# ---------------------------------------------------------------------- Constant, WhiteNoise
@pytest.mark.parametrize("dtype", DTYPES)
def test_constant_ignores_its_input_and_has_a_zero_gradient(lua, dtype):
    value = np.array([[1.5, -2.0], [0.25, 3.0]])
    x = rng(19).standard_normal((3, 4))
    f = fn(lua, """local v, x, tname = ...
        local m = nn.Constant(v, 1):type(tname)
        local batch = m:forward(x:type(tname)):clone()
        local g = m:backward(x:type(tname), torch.randn(3, 2, 2):type(tname)):clone()
        local one = m:forward(x[1]:type(tname)):clone()
        local t = nn.Constant(v):backward({x, {x[1]}}, torch.randn(2, 2))
        return batch, one, g, t[1], t[2][1]""")
    batch, one, g, t1, t2 = f(value, x, TNAME[dtype])
    np.testing.assert_array_equal(batch, np.broadcast_to(c(value, dtype), (3, 2, 2)))
    np.testing.assert_array_equal(one, c(value, dtype))
    np.testing.assert_array_equal(g, np.zeros((3, 4)))
    assert t1.shape == (3, 4) and not t1.any() and t2.shape == (4,) and not t2.any()


def test_white_noise_adds_gaussian_noise_in_training_only(lua):
    x = rng(20).standard_normal((200, 500))
    f = fn(lua, """local x = ...
        torch.manualSeed(21)
        local m = nn.WhiteNoise(0.3, 0.2)
        local y = m:forward(x):clone(); local noise = m.noise:clone()
        local gi = m:backward(x, torch.ones(200, 500)):clone()
        m:evaluate()
        return y, noise, gi, m:forward(x):clone(), tostring(m)""")
    y, noise, gi, ev, text = f(x)
    np.testing.assert_array_equal(y, x + noise)
    assert abs(noise.mean() - 0.3) < 0.003 and abs(noise.std() - 0.2) < 0.003
    np.testing.assert_array_equal(gi, np.ones_like(x))
    np.testing.assert_allclose(ev, x + 0.3, rtol=1e-15)
    assert text == "nn.WhiteNoise mean: 0.300000, std: 0.200000"
    with pytest.raises(st.LuaError, match="<nn.WhiteNoise> backward is only defined in training"):
        lua.execute("local m = nn.WhiteNoise():evaluate(); local x = torch.randn(3); m:forward(x); m:backward(x, x)")


# ---------------------------------------------------------------------- PrintSize, Profile, GPU
def test_print_size_prints_both_ways_and_passes_values_on(lua, capfd):
    x, g = np.ones((2, 3)), np.full((2, 3), 2.0)
    f = fn(lua, """local x, g = ...
        local m = nn.PrintSize('here'); local y = m:forward(x); local gi = m:backward(x, g)
        return y == x, gi == g""")
    assert f(x, g) == (True, True)
    out = capfd.readouterr().out
    size = " 2\n 3\n[torch.LongStorage of size 2]"
    assert out.index("here:input") < out.index(size) < out.index("here:gradOutput") < out.rindex(size)


def test_profile_runs_its_module_and_reports_every_interval(lua, capfd, tmp_path):
    x = rng(22).standard_normal((4, 3))
    f = fn(lua, """local x, path = ...
        torch.manualSeed(23)
        local lin = nn.Linear(3, 2)
        local p = nn.Profile(lin, 2, 'lin')
        local ref = lin:forward(x):clone()
        local out = p:forward(x):clone()
        p:zeroGradParameters()
        local gi = p:backward(x, torch.ones(4, 2)):clone()
        local counts = {p.numFwds, p.numBwds}
        p:forward(x)
        local back = roundtrip(p, path)
        return ref, out, gi, lin.gradBias:clone(), counts, p.numFwds, back:forward(x):clone(),
               torch.type(back.timer), back.timer:time().real >= 0""")
    ref, out, gi, gb, counts, after, reread, ttype, timing = f(x, str(tmp_path / "p.t7"))
    np.testing.assert_array_equal(out, ref)
    assert gi.shape == (4, 3)
    np.testing.assert_allclose(gb, [4.0, 4.0])
    assert list(counts.values()) == [1, 1] and after == 0
    np.testing.assert_array_equal(reread, ref)
    assert ttype == "torch.Timer" and timing is True
    assert "lin took" in capfd.readouterr().out
    # a timer is written as its class name only (Torch7's layout): tag, index, version, name
    lua.eval("function(p) torch.save(p, torch.Timer()) end")(str(tmp_path / "t.t7"))
    assert (tmp_path / "t.t7").read_bytes() == t7craft.dumps(t7craft.Obj("torch.Timer", body=b""))


def test_gpu_runs_its_module_and_loads_torch7_files(lua, tmp_path):
    x = rng(24).standard_normal((2, 4))
    f = fn(lua, """local x, path = ...
        torch.manualSeed(25)
        local lin = nn.Linear(4, 3)
        local g = nn.GPU(lin, 2, 1)
        local out = g:forward(x):clone()
        g:zeroGradParameters()
        local gi = g:backward(x, torch.ones(2, 3)):clone()
        local back = roundtrip(g, path)
        return lin:forward(x):clone(), out, gi, torch.ones(2, 3) * lin.weight, back:forward(x):clone(),
               back.device, back.outdevice, tostring(g)""")
    ref, out, gi, gref, reread, dev, outdev, text = f(x, str(tmp_path / "gpu.t7"))
    np.testing.assert_array_equal(out, ref)
    np.testing.assert_allclose(gi, gref, rtol=1e-12)
    np.testing.assert_array_equal(reread, ref)
    assert (dev, outdev) == (2, 1)
    assert text.startswith("nn.GPU(2) @ nn.Linear(4 -> 3)")
    # what Torch7 writes for a module on GPU 2: the header {'torch.CudaTensor', 2}, then the fields
    W = rng(26).standard_normal((3, 4)).astype(np.float32)
    bvec = np.arange(3, dtype=np.float32)
    cuda = lambda a: t7craft.Tensor("torch.CudaTensor", a.shape,
                                    storage=t7craft.Storage("torch.CudaStorage", a.ravel().tolist()))
    lin = t7craft.Obj("nn.Linear", {"weight": cuda(W), "bias": cuda(bvec), "_type": "torch.CudaTensor",
                                    "train": True})
    w = t7craft.Writer()
    w.int(t7craft.TAG_TORCH)
    w.int(w._index(object())[0])
    w.string_body("V 1")
    w.string_body("nn.GPU")
    w.value(t7craft.Table([(1, "torch.CudaTensor"), (2, 2)]))
    w.value(t7craft.Table({"modules": t7craft.Table([(1, lin)]), "device": 2, "outdevice": 2,
                           "_type": "torch.CudaTensor", "train": True}))
    (tmp_path / "torch7_gpu.t7").write_bytes(bytes(w.out))
    load = fn(lua, "local m = torch.load(...); return m:forward(torch.ones(4):float()), m.device, m._type")
    y, dev, typ = load(str(tmp_path / "torch7_gpu.t7"))
    np.testing.assert_allclose(y, W.sum(1) + bvec, rtol=1e-6)
    assert dev == 2 and typ == "torch.FloatTensor"
    # a file without the header is refused with what was expected
    bad = t7craft.dumps(t7craft.Obj("nn.GPU", {"device": 1}))
    (tmp_path / "bad.t7").write_bytes(bad)
    with pytest.raises(st.T7FormatError, match=r"nn.GPU: expected a header \{tensor type, device\}"):
        lua.eval("torch.load")(str(tmp_path / "bad.t7"))


# ---------------------------------------------------------------------- tables
@pytest.mark.parametrize("dtype", DTYPES)
def test_cadd_tensor_table_adds_the_tensor_to_each(lua, dtype):
    r = rng(27)
    v, a, b = r.standard_normal(4), r.standard_normal(4), r.standard_normal((2, 2))
    f = fn(lua, """local v, a, b, tname = ...
        local m = nn.CAddTensorTable():type(tname)
        local out = m:forward({v:type(tname), {a:type(tname), b:type(tname)}})
        return out[1]:clone(), out[2]:clone(), #out""")
    o1, o2, n = f(v, a, b, TNAME[dtype])
    np.testing.assert_allclose(o1, c(a, dtype) + c(v, dtype), **tol(dtype))
    np.testing.assert_allclose(o2.reshape(-1), c(b, dtype).reshape(-1) + c(v, dtype), **tol(dtype))
    assert n == 2


def test_table_modules_gradients_by_finite_differences(lua):
    f = fn(lua, """torch.manualSeed(28)
        local r = {}
        r.cadd = {gradcheck.module(nn.CAddTensorTable(), {torch.randn(3), {torch.randn(3), torch.randn(3), torch.randn(3)}})}
        r.zip = {gradcheck.module(nn.ZipTable(), {{torch.randn(2), torch.randn(3)}, {torch.randn(4), torch.randn(1)}})}
        r.onetomany = {gradcheck.module(nn.ZipTableOneToMany(), {torch.randn(3), {torch.randn(2), torch.randn(4)}})}
        return r""")
    res = f()
    assert_small({k: v[1] for k, v in res.items()})
    assert all(v[2] > 0.01 for v in res.values()), res


def test_zip_tables_regroup_the_same_tensors(lua):
    f = fn(lua, """local a, b, c = torch.randn(2), torch.randn(3), torch.randn(4)
        local z = nn.ZipTable():forward({{a, b}, {c, a}})
        local o = nn.ZipTableOneToMany():forward({c, {a, b}})
        local m = nn.ZipTableOneToMany(); m:forward({c, {a, b}})
        local g = m:backward({c, {a, b}}, {{torch.ones(4), a}, {torch.ones(4) * 2, b}})
        return z[1][1] == a, z[1][2] == c, z[2][1] == b, z[2][2] == a, #z,
               o[1][1] == c, o[1][2] == a, o[2][2] == b, #o, g[1]:clone(), g[2][1] == a, g[2][2] == b""")
    res = f()
    assert res[:5] == (True, True, True, True, 2) and res[5:9] == (True, True, True, 2)
    np.testing.assert_array_equal(res[9], np.full(4, 3.0))
    assert res[10:] == (True, True)
    assert lua.eval("torch.isTypeOf(nn.ZipTable(), 'nn.Container')") is False


@pytest.mark.parametrize("dtype", DTYPES)
def test_criterion_table_is_the_loss_of_its_pair(lua, dtype):
    r = rng(29)
    x, t = r.standard_normal((3, 4)), r.standard_normal((3, 4))
    f = fn(lua, """local x, t, tname = ...
        local m = nn.CriterionTable(nn.MSECriterion()):type(tname)
        local loss = m:forward({x:type(tname), t:type(tname)})
        local g = m:backward({x:type(tname), t:type(tname)}, 1)
        return loss, g[1]:clone(), #g""")
    loss, g, n = f(x, t, TNAME[dtype])
    cx, ct = c(x, dtype), c(t, dtype)
    assert loss == pytest.approx(((cx - ct) ** 2).mean(), rel=tol(dtype)["rtol"] * 10)
    np.testing.assert_allclose(g, 2 * (cx - ct) / x.size, **tol(dtype))
    assert n == 1


# ---------------------------------------------------------------------- Collapse, Convert
def test_collapse_and_convert_gradients(lua):
    f = fn(lua, """torch.manualSeed(30)
        local r = {}
        r.collapse = nn.Jacobian.testJacobian(nn.Collapse(2), torch.randn(3, 2, 4))
        r.collapseOne = nn.Jacobian.testJacobian(nn.Collapse(2), torch.randn(2, 4))
        r.transpose = nn.Jacobian.testJacobian(nn.Convert('bchw', 'bhwc'), torch.randn(2, 3, 2, 4))
        r.bf = nn.Jacobian.testJacobian(nn.Convert('bchw', 'bf'), torch.randn(2, 3, 2, 2))
        r.single = nn.Jacobian.testJacobian(nn.Convert('chw', 'hwc'), torch.randn(3, 2, 4))
        r.b = nn.Jacobian.testJacobian(nn.Convert('bf', 'b'), torch.randn(5, 1))
        return r""")
    assert_small(f())


@pytest.mark.parametrize("dtype", DTYPES)
def test_convert_backward_shapes_and_types(lua, dtype):
    r = rng(31)
    x = r.standard_normal((2, 3, 4, 5))
    g = r.standard_normal((2, 4, 5, 3))
    f = fn(lua, """local x, g, tname = ...
        local m = nn.Convert('bchw', 'bhwc'):type(tname)
        local y = m:forward(x):clone()                -- a double input into the module's type
        local gi = m:backward(x, g)
        local s = nn.Convert('chw', 'hwc'):type(tname)
        s:forward(x[1]); local gs = s:backward(x[1], g[1])
        local c = nn.Collapse(3):type(tname)
        local cx = x:transpose(1, 4)                  -- not contiguous
        local cy = c:forward(cx):clone(); local cg = c:backward(cx, torch.ones(cy:size()):type(tname))
        return y, torch.type(y), gi:clone(), torch.type(gi), gs:clone(), cy, cg:size():totable()""")
    y, ytype, gi, gtype, gs, cy, csize = f(x, g, TNAME[dtype])
    np.testing.assert_allclose(y, c(x, dtype).transpose(0, 2, 3, 1), **tol(dtype))
    assert ytype == TNAME[dtype] and gtype == "torch.DoubleTensor"
    np.testing.assert_allclose(gi, c(g, dtype).transpose(0, 3, 1, 2), **tol(dtype))
    np.testing.assert_allclose(gs, c(g[0], dtype).transpose(2, 0, 1), **tol(dtype))
    np.testing.assert_allclose(cy, c(x.transpose(3, 1, 2, 0), dtype).reshape(5, -1), **tol(dtype))
    assert list(csize.values()) == [5, 3, 4, 2]


# ---------------------------------------------------------------------- Kmeans
@pytest.mark.parametrize("dtype", DTYPES)
def test_kmeans_assigns_the_nearest_centre_and_moves_centres(lua, dtype, tmp_path):
    r = rng(32)
    C = np.array([[0.0, 0.0], [5.0, 5.0], [-5.0, 5.0]])
    x = np.concatenate([C[i] + r.standard_normal((6, 2)) * 0.5 for i in range(3)])
    f = fn(lua, """local C, x, tname, path = ...
        local m = nn.Kmeans(3, 2); m.weight:copy(C); m:type(tname)
        local xi = x:type(tname)
        local out = m:forward(xi):clone(); local loss = m.loss
        m:zeroGradParameters(); m:backward(xi, out)
        local gi = m.gradInput:clone()
        m:updateParameters(1)
        local half = nn.Kmeans(3, 2, 0.5); half.weight:copy(C); half:type(tname)
        half:forward(xi); half:zeroGradParameters(); half:backward(xi, out); half:updateParameters(1)
        local back = roundtrip(m, path)
        return out, loss, gi, m.weight:clone(), m.clusterSampleCount:clone(), half.weight:clone(),
               back:forward(xi):clone()""")
    out, loss, gi, moved, counts, halfway, reread = f(C, x, TNAME[dtype], str(tmp_path / "k.t7"))
    cx, cC = c(x, dtype), c(C, dtype)
    d = ((cx[:, None, :] - cC[None]) ** 2).sum(2)
    np.testing.assert_array_equal(out, d.argmin(1) + 1)
    assert loss == pytest.approx(d.min(1).sum(), rel=tol(dtype)["rtol"] * 10)
    np.testing.assert_array_equal(gi, 0)
    means = np.stack([cx[d.argmin(1) == k].mean(0) for k in range(3)])
    np.testing.assert_allclose(moved, means, rtol=1e-5 if dtype == np.float32 else 1e-6)
    np.testing.assert_allclose(halfway, (cC + means) / 2, rtol=1e-5 if dtype == np.float32 else 1e-6)
    np.testing.assert_array_equal(counts, [6, 6, 6])
    np.testing.assert_array_equal(reread, out)


def test_kmeans_initialisation_picks_input_rows(lua):
    x = rng(33).standard_normal((10, 3))
    f = fn(lua, """local x = ...
        torch.manualSeed(34)
        local a = nn.Kmeans(4, 3):initRandom(x).weight:clone()
        local b = nn.Kmeans(4, 3):initKmeansPlus(x, 0.8).weight:clone()
        return a, b""")
    a, b = f(x)
    rows = {tuple(r) for r in x}
    assert all(tuple(r) in rows for r in a) and len({tuple(r) for r in a}) == 4
    assert all(tuple(r) in rows for r in b)
    with pytest.raises(st.LuaError, match="<nn.Kmeans> input must be a 2D batch of rows of 3 features, got 4x2"):
        lua.execute("nn.Kmeans(2, 3):forward(torch.randn(4, 2))")


# ---------------------------------------------------------------------- forward bugs
def test_narrow_negative_offset_dimension_and_length_as_torch7(lua):
    """torch/nn's Narrow.lua (and its test.lua #5): a negative offset narrows from the first
    element and keeps all but the last `length`; a negative length counts from the end."""
    x = rng(35).standard_normal((3, 10, 4))
    run = fn(lua, "local m, x = ...; return m:forward(x):clone()")
    cases = [("nn.Narrow(2, -1, 7)", x[:, :3]), ("nn.Narrow(2, -3, 2)", x[:, :8]),
             ("nn.Narrow(2, 5, -4)", x[:, 4:7]), ("nn.Narrow(-2, 5, -4)", x[:, 4:7]),
             ("nn.Narrow(-1, 2, 2)", x[:, :, 1:3]), ("nn.Narrow(1, 2)", x[1:2])]
    for ctor, ref in cases:
        np.testing.assert_array_equal(run(lua.eval(ctor), x), ref, err_msg=ctor)


@pytest.mark.parametrize("dtype", DTYPES)
def test_add_constant_with_a_tensor_and_mul_constant_with_a_number(lua, dtype):
    r = rng(36)
    x, k = r.standard_normal((3, 4)), r.standard_normal(4)
    f = fn(lua, """local x, k, tname = ...
        local m = nn.AddConstant(k:type(tname)):type(tname)
        local rows = m:forward(x:type(tname)):clone()
        local one = m:forward(x[2]:type(tname)):clone()
        local ip = nn.AddConstant(k:type(tname), true):type(tname)
        local xi = x:type(tname):clone()
        local y = ip:forward(xi):clone(); ip:backward(xi, torch.ones(3, 4):type(tname))
        return rows, one, y, xi:clone()""")
    rows, one, y, restored = f(x, k, TNAME[dtype])
    np.testing.assert_allclose(rows, c(x, dtype) + c(k, dtype), **tol(dtype))
    np.testing.assert_allclose(one, c(x[1], dtype) + c(k, dtype), **tol(dtype))
    np.testing.assert_allclose(y, c(x, dtype) + c(k, dtype), **tol(dtype))
    np.testing.assert_allclose(restored, c(x, dtype), **tol(dtype))
    errs = fn(lua, """local k = torch.randn(4)
        return nn.Jacobian.testJacobian(nn.AddConstant(k), torch.randn(3, 4)),
               nn.Jacobian.testJacobian(nn.MulConstant(-1.5), torch.randn(3, 4))""")()
    assert max(errs) < JAC_TOL
    with pytest.raises(st.LuaError, match="<nn.AddConstant> a constant of size 4 needs a 1D or 2D input whose last "
                                          "dimension has its 4 elements, got 3x5"):
        lua.execute("nn.AddConstant(torch.randn(4)):forward(torch.randn(3, 5))")
    # torch/nn's MulConstant takes a number only (its constructor asserts it)
    with pytest.raises(st.LuaError, match=r"<nn.MulConstant> usage: nn.MulConstant\(scalar\[, inplace\]\)"):
        lua.execute("nn.MulConstant(torch.randn(4))")


def test_flatten_table_keeps_its_output_until_the_input_changes_as_torch7(lua):
    # torch/nn's test.lua: the table (and input_map) stay while the input's nesting and
    # tensors are the same, and are rebuilt when an element is added, removed or moved
    f = fn(lua, """local a, b, c = torch.randn(2), torch.randn(3), torch.randn(4)
        local m = nn.FlattenTable()
        local first = m:forward({a, {b, c}})
        local map = m.input_map
        local again = m:forward({a, {b, c}})
        local same = again == first and m.input_map == map
        local fewer = m:forward({a, {b}})
        local deeper = m:forward({{a}, {{b}, c}})
        local g = m:backward({{a}, {{b}, c}}, {a * 2, b * 2, c * 2})
        return same, fewer ~= first, #fewer, fewer[2] == b, #deeper, deeper[3] == c,
               g[1][1]:clone(), g[2][1][1]:clone(), g[2][2]:clone(), a, b, c""")
    same, fresh, n_fewer, same_b, n_deeper, same_c, g1, g2, g3, a, b, cc = f()
    assert (same, fresh, n_fewer, same_b, n_deeper, same_c) == (True, True, 2, True, 3, True)
    np.testing.assert_array_equal(g1, 2 * a)
    np.testing.assert_array_equal(g2, 2 * b)
    np.testing.assert_array_equal(g3, 2 * cc)


@pytest.mark.parametrize("dtype", DTYPES)
def test_one_hot_of_a_number_is_one_vector(lua, dtype):
    f = fn(lua, """local tname = ...
        local m = nn.OneHot(5):type(tname)
        local a = m:forward(3):clone()
        local b = m:forward(torch.LongTensor({{5, 1}})):clone()
        local again = m:forward(1):clone()
        return a, torch.type(m.output), b, again, m:updateGradInput(1, torch.randn(5):type(tname))""")
    a, otype, b, again, g = f(TNAME[dtype])
    np.testing.assert_array_equal(a, np.eye(5)[2])
    assert a.shape == (5,) and otype == TNAME[dtype]
    np.testing.assert_array_equal(b, np.eye(5)[[[4, 0]]])
    np.testing.assert_array_equal(again, np.eye(5)[0])
    assert g == 0


@pytest.mark.parametrize("dtype", DTYPES)
def test_linear_weight_norm_from_and_to_linear(lua, dtype):
    r = rng(37)
    W, b, x = r.standard_normal((3, 5)), r.standard_normal(3), r.standard_normal((4, 5))
    f = fn(lua, """local W, b, x, tname = ...
        local lin = nn.Linear(5, 3); lin.weight:copy(W); lin.bias:copy(b)
        local wn = nn.LinearWeightNorm.fromLinear(lin):type(tname)
        local y = wn:forward(x:type(tname)):clone()
        wn.g:mul(2)                                   -- a change back in the Linear
        local back = wn:toLinear():type(tname)
        local nobias = nn.LinearWeightNorm.fromLinear(nn.Linear(5, 3, false))
        return y, back:forward(x:type(tname)):clone(), torch.type(back), back.weight:clone(), wn.g:clone(),
               nobias.bias == nil, torch.type(nobias:toLinear().bias)""")
    y, y2, ltype, W2, g, no_bias, lb = f(W, b, x, TNAME[dtype])
    cW, cb, cx = c(W, dtype), c(b, dtype), c(x, dtype)
    np.testing.assert_allclose(y, cx @ cW.T + cb, rtol=1e-5 if dtype == np.float32 else 1e-10)
    np.testing.assert_allclose(g.reshape(-1), 2 * np.linalg.norm(cW, axis=1), rtol=1e-5 if dtype == np.float32 else 1e-10)
    np.testing.assert_allclose(W2, 2 * cW, rtol=1e-5 if dtype == np.float32 else 1e-10)
    np.testing.assert_allclose(y2, cx @ (2 * cW).T + cb, rtol=1e-5 if dtype == np.float32 else 1e-10)
    assert ltype == "nn.Linear" and no_bias is True and lb == "nil"
    with pytest.raises(st.LuaError, match="<nn.LinearWeightNorm> fromLinear expects an nn.Linear"):
        lua.execute("nn.LinearWeightNorm.fromLinear(nn.Tanh())")


# ---------------------------------------------------------------------- torch/nn test.lua's checks
def test_index_linear_is_a_linear_layer_of_sparse_rows(lua):
    """After torch/nn's testIndexLinear: against nn.Linear on the dense rows, for one sample,
    a flat sample (its size a number), and batches forwarded and backwarded 1 to 3 times
    before one updateParameters(1): outputs, gradInputs, weights and biases agree."""
    f = fn(lua, """torch.manualSeed(40)
        local nIn, nOut, batch, nnz = 40, 10, 4, 30
        local lin = nn.Linear(nIn, nOut)
        local a = nn.IndexLinear(nIn, nOut, true); local b = nn.IndexLinear(nIn, nOut, true)
        for _, m in ipairs({a, b}) do m.weight:copy(lin.weight:t()); m.bias:copy(lin.bias); m:zeroGradParameters() end
        lin:zeroGradParameters()
        local keys, vals, dense = {}, {}, torch.zeros(batch, nIn)
        for i = 1, batch do
           keys[i] = torch.randperm(nIn):narrow(1, 1, nnz):long()
           vals[i] = torch.rand(nnz)
           dense[i]:indexCopy(1, keys[i], vals[i])
        end
        local flat = {torch.LongTensor():cat(keys, 1), torch.Tensor():cat(vals, 1), torch.LongTensor(batch):fill(nnz)}
        local go = torch.rand(batch, nOut)
        local err = 0
        local function worst(x, y) err = math.max(err, (x:contiguous():view(-1) - y:contiguous():view(-1)):abs():max()) end
        -- one sample
        local y1 = a:forward({keys[1], vals[1]}):clone()
        local y2 = b:forward({keys[1], vals[1], nnz}):clone()
        local y = lin:forward(dense[1]):clone()
        local g1 = a:backward({keys[1], vals[1]}, go[1])[2]:clone()
        local g2 = b:backward({keys[1], vals[1], nnz}, go[1])[2]:clone()
        local g = lin:backward(dense[1], go[1]):clone()
        for _, m in ipairs({a, b, lin}) do m:updateParameters(1) end
        worst(y1, y); worst(y2, y); worst(g1, g); worst(g2, g)
        worst(a.weight:t(), lin.weight); worst(b.weight:t(), lin.weight); worst(a.bias, lin.bias); worst(b.bias, lin.bias)
        for _, m in ipairs({a, b, lin}) do m:zeroGradParameters() end
        for times = 1, 3 do
           local ya, yb, yl, ga, gb, gl
           for _ = 1, times do
              ya = a:forward({keys, vals}):clone(); yb = b:forward(flat):clone(); yl = lin:forward(dense):clone()
              ga = a:backward({keys, vals}, go); gb = b:backward(flat, go)[2]:clone(); gl = lin:backward(dense, go):clone()
           end
           for _, m in ipairs({a, b, lin}) do m:updateParameters(1) end
           worst(ya, yl); worst(yb, yl); worst(gb, gl)
           for i = 1, batch do worst(ga[2][i], gl[i]) end
           worst(a.weight:t(), lin.weight); worst(b.weight:t(), lin.weight); worst(a.bias, lin.bias); worst(b.bias, lin.bias)
           for _, m in ipairs({a, b, lin}) do m:zeroGradParameters() end
           worst(a.gradBias, lin.gradBias)
        end
        return err, y1:dim(), y2:dim()""")
    err, dim1, dim2 = f()
    assert err < 1e-10
    assert (dim1, dim2) == (1, 2)      # a flat sample is a batch of one, as in Torch7


@pytest.mark.parametrize("n_out", [1, 10])
def test_index_linear_updates_of_one_key_many_times(lua, n_out):
    # after test.lua: the same key in every slot of every sample, gradOutput 1, a direct update
    # (backwardUpdate) and an accumulated one: the row moves by 2 lr times the number of keys
    f = fn(lua, """local nOut = ...
        local m = nn.IndexLinear(500, nOut)
        local batch = {{}, {}}
        for i = 1, 3 do batch[1][i] = torch.LongTensor(2000):fill(100); batch[2][i] = torch.Tensor(2000):fill(1) end
        local out = m:updateOutput(batch)
        out:fill(1)
        m:backwardUpdate(batch, out, 0.01)
        m:backward(batch, out, 1)
        m:updateParameters(0.01)
        return m.weight[100]:clone(), m.weight[99]:clone(), m.bias:clone()""")
    row, other, bias = f(n_out)
    np.testing.assert_allclose(row, np.full(n_out, -3 * 2000 * 0.01 * 2), rtol=1e-12)
    np.testing.assert_array_equal(other, 0)
    np.testing.assert_allclose(bias, np.full(n_out, -3 * 0.01 * 2), rtol=1e-12)


def test_weight_norm_of_torch7_test_modules(lua):
    f = fn(lua, """torch.manualSeed(41)
        local r = {}
        local x = torch.rand(10, 5)
        local t = nn.WeightNorm(nn.TemporalConvolution(5, 20, 2, 1))
        r.temporal = jacobians(t, x, {{'bias', 'gradBias'}, {'g', 'gradG'}, {'v', 'gradV'}})
        local e = nn.WeightNorm(nn.Euclidean(5, 20))
        r.euclidean = jacobians(e, x, {{'g', 'gradG'}, {'v', 'gradV'}})
        local s = nn.WeightNorm(nn.SpatialConvolution(5, 20, 2, 2, 3, 3, 1, 1), 2)
        r.spatial = jacobians(s, torch.rand(5, 10, 10), {{'bias', 'gradBias'}, {'g', 'gradG'}, {'v', 'gradV'}})
        local l = nn.WeightNorm(nn.Linear(5, 20))
        local out = l:forward(x):clone()
        local back = torch.deserialize(torch.serialize(l))
        return r, (back:forward(x) - out):abs():max(), e.bias == nil""")
    r, diff, no_bias = f()
    for name, errs in r.items():
        assert_small(errs, 1e-5)
    assert diff == 0 and no_bias is True


def test_partial_linear_as_in_torch7_test(lua):
    f = fn(lua, """torch.manualSeed(42)
        local N, D, K = 10, 5, 15
        local m = nn.PartialLinear(D, K)
        local shapes = true
        for sub = 1, K do
           local x = torch.randn(N, D)
           m:setPartition(torch.randperm(K):narrow(1, 1, sub))
           m:forward(x)
           m:backward(x, torch.ones(N, sub))
           shapes = shapes and m.output:size(1) == N and m.output:size(2) == sub
                    and m.gradInput:size(1) == N and m.gradInput:size(2) == D
           m:updateParameters(0.01)
        end
        m:resetPartition()
        local lin = nn.Linear(D, K)
        lin.weight:copy(m.network:get(1):get(2).weight); lin.bias:copy(m.bias)
        local x = torch.randn(N, D)
        local diff = (m:forward(x) - lin:forward(x)):abs():max()
        m:setPartition(torch.randperm(K):narrow(1, 1, 5))
        local lt = m.network:get(1):get(2)
        local errs = {input = nn.Jacobian.testJacobian(m, x),
                      weight = nn.Jacobian.testJacobianParameters(m, x, lt.weight, lt.gradWeight),
                      bias = nn.Jacobian.testJacobianParameters(m, x, m.bias, m.gradBias),
                      ['weight update'] = nn.Jacobian.testJacobianUpdateParameters(m, x, lt.weight),
                      ['bias update'] = nn.Jacobian.testJacobianUpdateParameters(m, x, m.bias)}
        return shapes, diff, errs""")
    shapes, diff, errs = f()
    assert shapes is True and diff < 1e-12
    assert_small(errs)


def test_kmeans_plus_plus_finds_three_distinct_points(lua):
    f = fn(lua, """torch.manualSeed(43)
        local x = torch.Tensor(200, 5)
        for i = 1, 200 do x[i]:fill(torch.random(1, 3)) end
        local best = math.huge
        for _ = 1, 10 do
           local km = nn.Kmeans(3, 5)
           km:initKmeansPlus(x)
           for _ = 1, 20 do
              km:zeroGradParameters(); km:forward(x); km:backward(x)
              km.weight:add(-1, km.gradWeight)
           end
           best = math.min(best, km.loss)
           if best < 1e-5 then break end
        end
        return best""")
    assert f() < 1e-5


def test_constant_collapse_and_convert_as_in_torch7_test(lua):
    f = fn(lua, """torch.manualSeed(44)
        local r = {}
        local x, value = torch.randn(20, 3, 7), torch.randn(30, 6)
        local k = nn.Constant(value:clone(), 2)
        local out = k:forward(x)
        r.constant = (out - value:view(1, 30, 6):expand(20, 30, 6)):abs():max()
        r.constantGrad = k:backward(x, out):abs():max()
        local c = nn.Collapse(3)
        local y = torch.randn(8, 3, 4, 5)
        r.collapse = (c:forward(y) - y:view(8, -1)):abs():max()
        r.collapseGrad = (c:backward(y, c.output) - y):abs():max()
        local y2 = y:transpose(1, 4)
        r.collapseNC = (c:forward(y2) - y2:contiguous():view(5, -1)):abs():max()
        r.collapseNCGrad = (c:backward(y2, c.output) - y2):abs():max()
        local v = nn.Convert('bchw', 'chwb')
        local img = torch.randn(8, 3, 5, 5)
        r.chwb = (v:forward(img) - img:transpose(1, 4):transpose(1, 3):transpose(1, 2)):abs():max()
        r.chwbGrad = (v:backward(img, v.output) - img):abs():max()
        local bf = nn.Convert('bchw', 'bf'):float()
        r.bfFloat = (bf:forward(img:float()) - img:view(8, -1):float()):abs():max()
        r.bfDouble = (bf:forward(img) - img:view(8, -1):float()):abs():max()
        r.bfType = torch.type(bf.output) == 'torch.FloatTensor' and 0 or 1
        local f = nn.Convert('chw', 'f')
        local one = torch.randn(3, 5, 5)
        r.f = (f:forward(one) - one:view(-1)):abs():max()
        r.fGrad = (f:backward(one, f.output) - one):abs():max()
        return r""")
    r = f()
    assert set(r) >= {"constant", "collapseNCGrad", "chwbGrad", "bfDouble", "fGrad"}
    assert max(r.values()) < 1e-6, r


@pytest.mark.parametrize("code,message", [
    ("nn.WeightNorm(nn.Tanh())", "<nn.WeightNorm> expects a module with a weight at argument 1, got nn.Tanh"),
    ("nn.WeightNorm(nn.Linear(2, 3), 3)", "<nn.WeightNorm> outputDim must be a dimension of the 2D weight, got 3"),
    ("nn.Maxout(4, 0, 2)", "<nn.Maxout> usage: nn.Maxout(inputSize, outputSize, maxoutNumber[, preprocess]): "
                           "argument 2 must be a positive integer, got 0"),
    ("nn.LayerNormalization('x')", "<nn.LayerNormalization> usage: nn.LayerNormalization(nOutput[, bias, eps, affine])"),
    ("nn.PartialLinear(4)", "<nn.PartialLinear> usage: nn.PartialLinear(inputSize, outputSize[, bias]): argument 2"),
    ("nn.Maxout(4, 2)", "argument 3 must be a positive integer, got nil"),
    ("nn.Kmeans(0, 2)", "<nn.Kmeans> usage: nn.Kmeans(k, dim[, scale]) with k and dim positive, got 0 and 2"),
    ("nn.Kmeans(3, 2):initRandom(torch.randn(2, 2))", "<nn.Kmeans> initialising 3 centres needs at least 3 rows, got 2"),
    ("nn.GPU(nn.Tanh())", "<nn.GPU> expects a device number at argument 2, got nil"),
    ("nn.GPU(nn.Tanh(), 1):accUpdateGradParameters(torch.randn(2), torch.randn(2), 0.1)",
     "<nn.GPU> accUpdateGradParameters is not implemented for nn.GPU (as in Torch7)"),
    ("nn.Profile(3)", "<nn.Profile> expects an nn module at argument 1, got number"),
    ("nn.CriterionTable(nn.Tanh())", "<nn.CriterionTable> expects an nn criterion at argument 1, got nn.Tanh"),
    ("nn.CriterionTable(nn.MSECriterion()):forward(torch.randn(3))",
     "<nn.CriterionTable> input must be a table {input, target}, got torch.DoubleTensor"),
    ("nn.WhiteNoise(0, -1)", "<nn.WhiteNoise> usage: nn.WhiteNoise([mean[, std >= 0]])"),
    ("nn.CAddTensorTable():forward({torch.randn(3), {torch.randn(4)}})",
     "<nn.CAddTensorTable> input[2][1] must be a tensor of 3 elements (input[1]'s), got 4 elements"),
    ("nn.ZipTableOneToMany():forward({torch.randn(3)})",
     "<nn.ZipTableOneToMany> input must be a table {element, {tensors...}}, got a table of 1 entries"),
    ("nn.Convert('bchw', 'bhwc'):backward(torch.randn(1, 2, 3, 4), torch.randn(5))",
     "<nn.Convert> backward before forward: run forward on this input first"),
    ("local m = nn.Convert('bchw', 'bhwc'); local x = torch.randn(1, 2, 3, 4); m:forward(x); m:backward(x, torch.randn(5))",
     "<nn.Convert> gradOutput has 5 elements, the output 24"),
    ("local m = nn.Collapse(1); local x = torch.randn(2, 3); m:forward(x); m:backward(x, torch.randn(5))",
     "<nn.Collapse> gradOutput must be a tensor of 6 elements (the input's), got 5"),
    ("nn.IndexLinear(4, 2):forward(torch.randn(3))",
     "<nn.IndexLinear> input must be {keys, values}, {{keys...}, {values...}} or {keys, values, sizes}, got torch.DoubleTensor"),
    ("nn.IndexLinear(4, 2, true, nil, nil, nil, true):updateGradInput({}, torch.randn(2))",
     "<nn.IndexLinear> updateGradInput is not implemented in max-normalize mode"),
])
def test_bad_arguments_are_clear_errors(lua, code, message):
    with pytest.raises(st.LuaError) as info:
        lua.execute(code)
    assert message in str(info.value)
