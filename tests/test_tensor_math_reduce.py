"""TensorMath reductions, orderings and norms against NumPy."""
import numpy as np
import pytest

import sparktorch7 as st


@pytest.fixture
def lua():
    state = st.LuaState()
    state.execute("require 'torch'")
    return state


def noncontig(a):
    return np.ascontiguousarray(a.T).T


@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.int64, np.int32, np.uint8])
@pytest.mark.parametrize("shape", [(4, 5), (300, 200)])
def test_whole_reductions_return_numbers(lua, dtype, shape):
    x = (np.random.default_rng(1).uniform(0, 5, shape)).astype(dtype)
    lua["x"] = noncontig(x)
    s = lua.eval("x:sum()")
    assert isinstance(s, (int, float))
    # Torch7 accumulates float sums in double
    assert s == pytest.approx(x.astype(np.float64).sum(), rel=1e-12)
    assert lua.eval("torch.max(x)") == x.max()
    assert lua.eval("x:min()") == x.min()
    if dtype in (np.float64, np.float32):
        assert lua.eval("x:mean()") == pytest.approx(x.astype(np.float64).mean(), rel=1e-10)
        assert lua.eval("x:std()") == pytest.approx(x.astype(np.float64).std(ddof=1), rel=1e-8)
        assert lua.eval("x:var(true)") == pytest.approx(x.astype(np.float64).var(), rel=1e-8)
        assert lua.eval("x:norm()") == pytest.approx(np.linalg.norm(x.astype(np.float64)), rel=1e-8)
        assert lua.eval("x:norm(1)") == pytest.approx(np.abs(x.astype(np.float64)).sum(), rel=1e-8)
        assert lua.eval("x:norm(3)") == pytest.approx((np.abs(x.astype(np.float64)) ** 3).sum() ** (1 / 3), rel=1e-8)


@pytest.mark.parametrize("dim", [1, 2, 3])
@pytest.mark.parametrize("shape", [(3, 4, 5), (40, 30, 50)])  # the big one goes through numpy
def test_dim_reductions_keep_dim(lua, dim, shape):
    x = np.random.default_rng(2).uniform(0.9, 1.1, shape)
    lua["x"] = noncontig(x)
    ax = dim - 1
    for name, f in [("sum", np.sum), ("prod", np.prod), ("mean", np.mean)]:
        got = lua.eval(f"torch.{name}(x, {dim})")
        np.testing.assert_allclose(got, f(x, axis=ax, keepdims=True), rtol=1e-12)
        res = lua.eval(f"(function() local r = torch.Tensor(); torch.{name}(r, x, {dim}); return r end)()")
        np.testing.assert_allclose(res, got)
    np.testing.assert_allclose(lua.eval(f"x:std({dim})"), x.std(axis=ax, ddof=1, keepdims=True), rtol=1e-10)
    np.testing.assert_allclose(lua.eval(f"x:var({dim}, true)"), x.var(axis=ax, keepdims=True), rtol=1e-10)
    np.testing.assert_allclose(lua.eval(f"x:norm(2, {dim})"), np.linalg.norm(x, axis=ax, keepdims=True), rtol=1e-10)
    np.testing.assert_allclose(lua.eval(f"torch.cumsum(x, {dim})"), np.cumsum(x, axis=ax), rtol=1e-12)
    np.testing.assert_allclose(lua.eval(f"x:cumprod({dim})"), np.cumprod(x, axis=ax), rtol=1e-12)


@pytest.mark.parametrize("name,vf,idf", [("max", np.max, np.argmax), ("min", np.min, np.argmin)])
@pytest.mark.parametrize("shape", [(6, 7), (300, 200)])
def test_max_min_dim_values_and_indices(lua, name, vf, idf, shape):
    x = np.random.default_rng(3).integers(0, 4, shape).astype(np.float64)  # many ties
    lua["x"] = x
    for dim in (1, 2):
        v, i = lua.eval(f"{{torch.{name}(x, {dim})}}").values()
        np.testing.assert_array_equal(v, vf(x, axis=dim - 1, keepdims=True))
        assert i.dtype == np.int64
        # 1-based, first occurrence on ties (as numpy's argmax)
        np.testing.assert_array_equal(i, np.expand_dims(idf(x, axis=dim - 1), dim - 1) + 1)
    vals = lua.eval(f"(function() local v, i = torch.Tensor(), torch.LongTensor(); torch.{name}(v, i, x, 2); return v end)()")
    np.testing.assert_array_equal(vals, vf(x, axis=1, keepdims=True))


@pytest.mark.parametrize("n", [10, 100000])
def test_max_propagates_nan_with_its_index(lua, n):
    x = np.arange(float(n))
    x[4] = np.nan
    lua["x"] = x
    assert np.isnan(lua.eval("x:max()"))
    v, i = lua.eval("{x:max(1)}").values()
    assert np.isnan(v[0]) and i[0] == 5
    v, i = lua.eval("{x:min(1)}").values()
    assert np.isnan(v[0]) and i[0] == 5


def test_max_of_two_tensors_is_cmax(lua):
    a, b = np.array([1.0, 5, 3]), np.array([4.0, 2, 6])
    lua["a"], lua["b"] = a, b
    np.testing.assert_array_equal(lua.eval("torch.max(a, b)"), np.maximum(a, b))
    np.testing.assert_array_equal(lua.eval("torch.min(a, b)"), np.minimum(a, b))


@pytest.mark.parametrize("desc", [False, True])
def test_sort(lua, desc):
    x = np.random.default_rng(4).integers(0, 5, (5, 8)).astype(np.float32)
    lua["x"] = noncontig(x)
    flag = "true" if desc else "false"
    for dim in (1, 2):
        v, i = lua.eval(f"{{torch.sort(x, {dim}, {flag})}}").values()
        key = -x if desc else x
        order = np.argsort(key, axis=dim - 1, kind="stable")
        np.testing.assert_array_equal(i, order + 1)
        np.testing.assert_array_equal(v, np.take_along_axis(x, order, dim - 1))
    v, _ = lua.eval(f"torch.sort(x, {flag})")  # default: last dimension
    np.testing.assert_array_equal(v, -np.sort(-x, axis=1) if desc else np.sort(x, axis=1))


def test_topk_kthvalue_median_mode(lua):
    x = np.random.default_rng(5).permutation(30).reshape(5, 6).astype(np.float64)
    lua["x"] = x
    v, i = lua.eval("{x:topk(2, 2, true)}").values()
    np.testing.assert_array_equal(v, -np.sort(-x, axis=1)[:, :2])
    np.testing.assert_array_equal(np.take_along_axis(x, i - 1, 1), v)
    v, i = lua.eval("{x:topk(3)}").values()  # smallest along the last dim
    np.testing.assert_array_equal(v, np.sort(x, axis=1)[:, :3])
    v, i = lua.eval("{torch.kthvalue(x, 2)}").values()
    np.testing.assert_array_equal(v[:, 0], np.sort(x, axis=1)[:, 1])
    np.testing.assert_array_equal(np.take_along_axis(x, i - 1, 1), v)
    v, i = lua.eval("{torch.median(x, 1)}").values()  # lower median for even counts
    np.testing.assert_array_equal(v[0], np.sort(x, axis=0)[2])
    m = np.array([[1, 2, 2, 2, 3, 2], [1.5, 2, 2, 1.5, 1.5, 5]])
    lua["m"] = m
    v, i = lua.eval("{torch.mode(m)}").values()
    np.testing.assert_array_equal(v, [[2], [1.5]])
    np.testing.assert_array_equal(i, [[6], [5]])  # last position of the mode


def test_renorm_dist_trace_all_any(lua):
    x = np.random.default_rng(6).standard_normal((4, 5))
    lua["x"] = x
    got = lua.eval("torch.renorm(x, 2, 2, 1.0)")
    norms = np.linalg.norm(x, axis=0)
    want = x * np.where(norms > 1, 1 / (norms + 1e-7), 1)
    np.testing.assert_allclose(got, want, rtol=1e-10)
    y = x[::-1].copy()
    lua["y"] = y
    assert lua.eval("torch.dist(x, y)") == pytest.approx(np.linalg.norm(x - y))
    assert lua.eval("x:dist(y, 1)") == pytest.approx(np.abs(x - y).sum())
    assert lua.eval("torch.trace(x)") == pytest.approx(np.trace(x))
    assert lua.eval("torch.ByteTensor({1, 2, 1}):all()") is True
    assert lua.eval("torch.ByteTensor({1, 0, 1}):all()") is False
    assert lua.eval("torch.ByteTensor({0, 0, 1}):any()") is True
    assert lua.eval("torch.ByteTensor({0, 0}):any()") is False


def test_reduction_errors(lua):
    lua["x"] = np.zeros((2, 3))
    with pytest.raises(st.LuaError, match=r"<torch.sum> dimension 3 out of range for a 2D tensor \(size 2x3\)"):
        lua.execute("local s = x:sum(3)")
    with pytest.raises(st.LuaError, match=r"<torch.max> got an empty tensor"):
        lua.execute("local s = torch.Tensor():max()")
    with pytest.raises(st.LuaError, match=r"<torch.kthvalue> k 7 out of range"):
        lua.execute("local v = x:kthvalue(7)")
    with pytest.raises(st.LuaError, match=r"index result must be a torch.LongTensor"):
        lua.execute("torch.max(torch.Tensor(), torch.IntTensor(), x, 1)")


@pytest.mark.parametrize("desc", [False, True])
def test_big_sort_median_kthvalue_numpy_path(lua, desc):
    x = np.random.default_rng(7).integers(0, 50, (200, 300)).astype(np.float64)  # ties
    lua["x"] = noncontig(x)
    flag = "true" if desc else "false"
    v, i = lua.eval(f"torch.sort(x, 2, {flag})")
    order = np.argsort(-x if desc else x, axis=1, kind="stable")
    np.testing.assert_array_equal(i, order + 1)
    np.testing.assert_array_equal(v, np.take_along_axis(x, order, 1))
    v, i = lua.eval("torch.median(x, 1)")
    np.testing.assert_array_equal(v[0], np.sort(x, axis=0)[99])
    np.testing.assert_array_equal(np.take_along_axis(x, i - 1, 0), v)
    v, _ = lua.eval("torch.kthvalue(x, 7)")
    np.testing.assert_array_equal(v[:, 0], np.sort(x, axis=1)[:, 6])
