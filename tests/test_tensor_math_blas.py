"""TensorMath BLAS, LAPACK and convolutions against NumPy (and the pure-Lua fallback)."""
import time

import numpy as np
import pytest

import sparktorch7 as st


@pytest.fixture
def lua():
    state = st.LuaState()
    state.execute("require 'torch'")
    return state


@pytest.fixture(params=["numpy", "lua"])
def any_path(request):
    """A state whose products go to numpy, or one where the numpy bridge is switched off."""
    state = st.LuaState()
    state.execute("require 'torch'")
    if request.param == "lua":
        state.execute("torch._np = nil")
    return state


def noncontig(a):
    return np.ascontiguousarray(a.T).T


@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.int32])
@pytest.mark.parametrize("n", [3, 40])  # small ones run as Lua loops, bigger ones in numpy
def test_mm_mv_ger_dot(any_path, dtype, n):
    lua = any_path
    rng = np.random.default_rng(1)
    a = rng.integers(-3, 4, (n, n + 1)).astype(dtype)
    b = rng.integers(-3, 4, (n + 1, n + 2)).astype(dtype)
    v = rng.integers(-3, 4, n + 1).astype(dtype)
    lua["a"], lua["b"], lua["v"] = a, noncontig(b), v
    np.testing.assert_allclose(lua.eval("torch.mm(a, b)"), a @ b, rtol=1e-5)
    np.testing.assert_allclose(lua.eval("torch.mv(a, v)"), a @ v, rtol=1e-5)
    np.testing.assert_allclose(lua.eval("torch.ger(v, v)"), np.outer(v, v), rtol=1e-5)
    assert lua.eval("torch.dot(v, v)") == pytest.approx(float(v.astype(np.float64) @ v))
    r = lua.eval("(function() local r = torch.Tensor():type(a:type()); r:mm(a, b); return r end)()")
    np.testing.assert_allclose(r, a @ b, rtol=1e-5)
    # zero-stride (expanded) operand
    e = lua.eval("torch.mm(a, b:narrow(2, 1, 1):expand(b:size(1), 3))")
    np.testing.assert_allclose(e, a @ np.repeat(b[:, :1], 3, axis=1), rtol=1e-5)


def test_addmm_family_argument_forms(any_path):
    lua = any_path
    rng = np.random.default_rng(2)
    m, a, b = rng.standard_normal((4, 5)), rng.standard_normal((4, 3)), rng.standard_normal((3, 5))
    lua["m"], lua["a"], lua["b"] = m, a, b
    ab = a @ b
    np.testing.assert_allclose(lua.eval("torch.addmm(m, a, b)"), m + ab)
    np.testing.assert_allclose(lua.eval("torch.addmm(0.5, m, a, b)"), 0.5 * m + ab)
    np.testing.assert_allclose(lua.eval("torch.addmm(0.5, m, 2, a, b)"), 0.5 * m + 2 * ab)
    np.testing.assert_allclose(lua.eval("torch.addmm(m, 3, a, b)"), m + 3 * ab)
    np.testing.assert_allclose(lua.eval("m:clone():addmm(a, b)"), m + ab)
    np.testing.assert_allclose(lua.eval("m:clone():addmm(2, a, b)"), m + 2 * ab)  # one number: alpha
    np.testing.assert_allclose(lua.eval("torch.Tensor():addmm(0, m, 1, a, b)"), ab)
    x, y = rng.standard_normal(4), rng.standard_normal(5)
    lua["x"], lua["y"] = x, y
    np.testing.assert_allclose(lua.eval("torch.addr(m, 2, x, y)"), m + 2 * np.outer(x, y))
    np.testing.assert_allclose(lua.eval("torch.addmv(x, a, b:select(2, 1))"), x + a @ b[:, 0])


def test_batched_products(any_path):
    lua = any_path
    rng = np.random.default_rng(3)
    b1, b2 = rng.standard_normal((6, 4, 3)), rng.standard_normal((6, 3, 5))
    lua["b1"], lua["b2"] = b1, b2
    res = b1 @ b2
    np.testing.assert_allclose(lua.eval("torch.bmm(b1, b2)"), res)
    m = rng.standard_normal((4, 5))
    lua["m"] = m
    np.testing.assert_allclose(lua.eval("torch.addbmm(0.1, m, 0.5, b1, b2)"), 0.1 * m + 0.5 * res.sum(0))
    np.testing.assert_allclose(lua.eval("m:clone():addbmm(b1, b2)"), m + res.sum(0))
    mb = rng.standard_normal((6, 4, 5))
    lua["mb"] = mb
    np.testing.assert_allclose(lua.eval("torch.baddbmm(2, mb, b1, b2)"), 2 * mb + res)
    np.testing.assert_allclose(lua.eval("mb:clone():baddbmm(1, mb, 0.5, b1, b2)"), mb + 0.5 * res)


def test_cross(lua):
    rng = np.random.default_rng(4)
    x, y = rng.standard_normal((4, 3, 2)), rng.standard_normal((4, 3, 2))
    lua["x"], lua["y"] = x, y
    np.testing.assert_allclose(lua.eval("torch.cross(x, y)"), np.cross(x, y, axis=1))
    np.testing.assert_allclose(lua.eval("x:cross(y, 2)"), np.cross(x, y, axis=1))


def test_blas_errors(lua):
    lua["a"], lua["f"] = np.zeros((2, 3)), np.zeros((3, 2), dtype=np.float32)
    with pytest.raises(st.LuaError, match=r"<torch.mm> size mismatch: matrix1 is 2x3, matrix2 is 2x3"):
        lua.execute("local r = torch.mm(a, a)")
    with pytest.raises(st.LuaError, match=r"<torch.mv> vector must be a 1D tensor"):
        lua.execute("local r = torch.mv(a, a)")
    with pytest.raises(st.LuaError, match=r"<torch.mm> all tensors must have the same type"):
        lua.execute("local r = torch.mm(a, f)")
    # M must have the product's sizes, not only its number of elements
    with pytest.raises(st.LuaError, match=r"<torch.addmm> size mismatch: M is 3x2, the product is 2x2"):
        lua.execute("local r = torch.addmm(torch.zeros(3, 2), a, torch.zeros(3, 2))")
    with pytest.raises(st.LuaError, match=r"<torch.addmm> size mismatch: M is 6, the product is 2x3"):
        lua.execute("local r = torch.addmm(torch.zeros(6), a, torch.zeros(3, 3))")
    with pytest.raises(st.LuaError, match=r"<torch.addmm> size mismatch: M is 3x2, the product is 2x3"):
        lua.execute("local r = torch.addmm(torch.zeros(3, 2), a, torch.zeros(3, 3))")


@pytest.mark.slow
def test_mm_speed_close_to_numpy(lua):
    rng = np.random.default_rng(5)
    a = rng.random((1024, 1024), dtype=np.float32)
    b = rng.random((1024, 1024), dtype=np.float32)
    lua["a"], lua["b"] = a, b

    def timed(f):
        t = time.perf_counter()
        f()
        return time.perf_counter() - t

    # interleaved, best of many: the machine is shared, so noise hits both sides alike
    t_np, t_lua = [], []
    for _ in range(9):
        t_np.append(timed(lambda: np.matmul(a, b)))
        t_lua.append(timed(lambda: lua.execute("local c = torch.mm(a, b)")))
    t_np, t_lua = min(t_np), min(t_lua)
    np.testing.assert_allclose(lua.eval("torch.mm(a, b)"), a @ b, rtol=1e-5)
    assert t_np / t_lua >= 0.9 * 0.8, (t_np, t_lua)  # 0.8: slack for a shared, noisy machine


# ---------------------------------------------------------------- LAPACK
A = np.array([[6.80, -2.11, 5.66, 5.97, 8.23], [-6.05, -3.30, 5.36, -4.44, 1.08],
              [-0.45, 2.58, -2.70, 0.27, 9.04], [8.32, 2.71, 4.35, -7.17, 2.14],
              [-9.67, -5.14, -7.26, 6.08, -6.87]]).T.copy()
B = np.array([[4.02, 6.19, -8.22, -7.57, -3.03], [-1.56, 4.00, -8.67, 1.75, 2.86],
              [9.81, -4.09, -4.57, -8.61, 8.99]]).T.copy()


def test_gesv_trtrs_gels(lua):
    lua["a"], lua["b"] = A, B
    x, lu = lua.eval("torch.gesv(b, a)")
    np.testing.assert_allclose(A @ x, B, atol=1e-10)
    # the caller's result tensors are filled and returned
    x2 = lua.eval("(function() local tb, ta = torch.Tensor(), torch.Tensor(); torch.gesv(tb, ta, b, a); return tb end)()")
    np.testing.assert_allclose(x2, x)
    u = np.triu(A)
    lua["u"] = u
    x = lua.eval("torch.trtrs(b, u)")[0]
    np.testing.assert_allclose(u @ x, B, atol=1e-10)
    x = lua.eval("torch.trtrs(b, u, 'U', 'T')")[0]
    np.testing.assert_allclose(u.T @ x, B, atol=1e-10)
    over = np.random.default_rng(6).standard_normal((6, 4))
    rhs = np.random.default_rng(7).standard_normal((6, 2))
    lua["o"], lua["r"] = over, rhs
    x = lua.eval("torch.gels(r, o)")[0]
    np.testing.assert_allclose(x, np.linalg.lstsq(over, rhs, rcond=None)[0], atol=1e-10)


@pytest.mark.parametrize("m,n", [(6, 4), (4, 4), (3, 5)])
def test_gels_over_and_under_determined(lua, m, n):
    """doc/maths.md: x minimises ||Ax - B|| (m >= n) or is the minimum-norm solution
    (m < n); A is left as dgels leaves it: its QR (m >= n) or LQ (m < n) factorisation."""
    rng = np.random.default_rng(m * 10 + n)
    a, b = rng.standard_normal((m, n)), rng.standard_normal((m, 2))
    lua["a"], lua["b"] = a, b
    x, fac = lua.eval("torch.gels(b, a)")
    assert x.shape == (n, 2) and fac.shape == (m, n)
    np.testing.assert_allclose(x, np.linalg.pinv(a) @ b, atol=1e-10)
    if m >= n:
        r = np.triu(fac[:n])                  # A'A = R'R
        np.testing.assert_allclose(r.T @ r, a.T @ a, atol=1e-10)
        np.testing.assert_array_equal(fac, lua.eval("torch.geqrf(a)")[0])   # dgels' first step
    else:
        low = np.tril(fac[:, :m])             # AA' = LL'
        np.testing.assert_allclose(low @ low.T, a @ a.T, atol=1e-10)
    # the identity rows of torch.eye(3, 4): the minimum-norm solution has a zero 4th row
    lua.execute("e = torch.eye(3, 4); y = torch.gels(torch.Tensor({{1}, {2}, {3}}), e)")
    np.testing.assert_allclose(lua.eval("y"), [[1], [2], [3], [0]], atol=1e-15)


def test_gels_rank_deficient_is_lapacks_error(lua):
    lua["a"] = np.array([[1.0, 0.0], [2.0, 0.0], [3.0, 0.0]])
    with pytest.raises(Exception, match=r"Lapack Error in gels : The 2-th diagonal element of the triangular factor of A is zero"):
        lua.execute("torch.gels(torch.ones(3, 1), a)")


def test_eigen_svd_inverse_cholesky_qr(lua):
    rng = np.random.default_rng(8)
    x = rng.standard_normal((5, 5))
    spd = x @ x.T + 5 * np.eye(5)
    lua["x"], lua["s"] = x, spd
    e, v = lua.eval("torch.symeig(s, 'V')")
    np.testing.assert_allclose(e, np.linalg.eigvalsh(spd), rtol=1e-10)
    np.testing.assert_allclose(v @ np.diag(e) @ v.T, spd, atol=1e-10)
    ev = lua.eval("torch.eig(s)")
    np.testing.assert_allclose(np.sort(ev[:, 0]), np.linalg.eigvalsh(spd), rtol=1e-10)
    u, sv, vv = lua.eval("torch.svd(x)")
    np.testing.assert_allclose(u @ np.diag(sv) @ vv.T, x, atol=1e-10)
    inv = lua.eval("torch.inverse(x)")
    np.testing.assert_allclose(inv @ x, np.eye(5), atol=1e-10)
    assert lua.eval("torch.inverse(x):isContiguous()") is False  # column-major, as LAPACK
    c = lua.eval("torch.potrf(s)")
    np.testing.assert_allclose(c.T @ c, spd, atol=1e-10)
    low = lua.eval("torch.potrf(s, 'L')")
    np.testing.assert_allclose(low @ low.T, spd, atol=1e-10)
    lua["c"] = c
    np.testing.assert_allclose(lua.eval("torch.potri(c)"), np.linalg.inv(spd), atol=1e-10)
    lua["rhs"] = B
    np.testing.assert_allclose(lua.eval("torch.potrs(rhs, c)"), np.linalg.solve(spd, B), atol=1e-10)
    q, r = lua.eval("torch.qr(x:narrow(2, 1, 3))")
    np.testing.assert_allclose(q @ r, x[:, :3], atol=1e-10)
    f, piv = lua.eval("torch.pstrf(s)")
    p = piv.astype(np.int64) - 1
    np.testing.assert_allclose(spd[np.ix_(p, p)], f.T @ f, atol=1e-10)


def test_lapack_reuses_non_contiguous_results(lua):
    rng = np.random.default_rng(9)
    x = rng.standard_normal((4, 4))
    lua["x"] = x @ x.T
    lua.execute("e = torch.zeros(4, 2, 2)[{ {}, 2, {} }]; v = torch.zeros(4, 2, 4)[{ {}, 2, {} }]; torch.eig(e, v, x, 'V')")
    e, v = lua.eval("e"), lua.eval("v")
    np.testing.assert_allclose(v @ np.diag(e[:, 0]) @ v.T, x @ x.T, atol=1e-8)


def test_lapack_errors(lua):
    lua["a"] = np.zeros((2, 3))
    with pytest.raises(st.LuaError, match=r"<torch.inverse> A must be a square matrix, got torch.DoubleTensor of size 2x3"):
        lua.execute("local r = torch.inverse(a)")
    with pytest.raises(st.LuaError, match=r"<torch.gesv> A is 2x2 but B has 3 rows"):
        lua.execute("local r = torch.gesv(torch.zeros(3, 1), torch.eye(2))")
    with pytest.raises(st.LuaError, match=r"expected a torch.DoubleTensor or torch.FloatTensor"):
        lua.execute("local r = torch.inverse(torch.IntTensor(2, 2):zero())")


# ---------------------------------------------------------------- convolutions
def xcorr_ref(x, k, full=False):
    if full:
        x = np.pad(x, [(s - 1, s - 1) for s in k.shape])
    win = np.lib.stride_tricks.sliding_window_view(x, k.shape)
    return np.einsum("ijkl,kl->ij" if k.ndim == 2 else "ijkabc,abc->ijk", win, k)


def test_conv2_xcorr2(any_path):
    lua = any_path
    rng = np.random.default_rng(10)
    x, k = rng.random((9, 11)), rng.random((3, 4))
    lua["x"], lua["k"] = noncontig(x), k
    np.testing.assert_allclose(lua.eval("torch.xcorr2(x, k)"), xcorr_ref(x, k))
    np.testing.assert_allclose(lua.eval("torch.conv2(x, k)"), xcorr_ref(x, k[::-1, ::-1]))
    np.testing.assert_allclose(lua.eval("torch.conv2(x, k, 'F')"), xcorr_ref(x, k[::-1, ::-1], True))
    np.testing.assert_allclose(lua.eval("torch.xcorr2(x, k, 'F')"), xcorr_ref(x, k, True))
    # plane-wise and matrix-vector forms
    xx, kk = np.stack([x, 2 * x]), np.stack([k, k.T[:3, :3].repeat(2, 1)[:, :4]])
    lua["xx"], lua["kk"] = xx, kk
    got = lua.eval("torch.xcorr2(xx, kk)")
    for i in range(2):
        np.testing.assert_allclose(got[i], xcorr_ref(xx[i], kk[i]))
    k4 = rng.random((3, 2, 2, 2))
    lua["k4"] = k4
    got = lua.eval("torch.conv2(xx, k4)")
    for o in range(3):
        want = sum(xcorr_ref(xx[i], k4[o, i, ::-1, ::-1]) for i in range(2))
        np.testing.assert_allclose(got[o], want)


def test_conv3_xcorr3(any_path):
    lua = any_path
    rng = np.random.default_rng(11)
    x, k = rng.random((5, 6, 7)), rng.random((2, 3, 2))
    lua["x"], lua["k"] = x, k
    np.testing.assert_allclose(lua.eval("torch.xcorr3(x, k)"), xcorr_ref(x, k))
    np.testing.assert_allclose(lua.eval("torch.conv3(x, k, 'F')"), xcorr_ref(x, k[::-1, ::-1, ::-1], True))


def test_conv_errors(lua):
    lua["x"], lua["k"] = np.zeros((3, 3)), np.zeros((4, 4))
    with pytest.raises(st.LuaError, match=r"<torch.conv2> the kernel 4x4 is larger than the input 3x3"):
        lua.execute("local r = torch.conv2(x, k)")
    with pytest.raises(st.LuaError, match=r"<torch.xcorr2> mode must be 'V' \(valid\) or 'F' \(full\)"):
        lua.execute("local r = torch.xcorr2(k, x, 'X')")


def test_geqrf_orgqr_ormqr(lua):
    rng = np.random.default_rng(12)
    a, c = rng.standard_normal((5, 3)), rng.standard_normal((5, 2))
    lua["a"], lua["c"] = a, c
    lua.execute("m, tau = torch.geqrf(a); q = torch.orgqr(m, tau)")
    m, q = lua.eval("m"), lua.eval("q")
    np.testing.assert_allclose(q @ np.triu(m[:3]), a, atol=1e-12)
    np.testing.assert_allclose(q.T @ q, np.eye(3), atol=1e-12)
    qtc = lua.eval("torch.ormqr(m, tau, c, 'L', 'T')")
    np.testing.assert_allclose(qtc[:3], q.T @ c, atol=1e-12)  # the first rows are Q1' c
    lua["qtc"] = qtc
    np.testing.assert_allclose(lua.eval("torch.ormqr(m, tau, qtc)"), c, atol=1e-12)  # Q Q' = I
    with pytest.raises(st.LuaError, match=r"<torch.ormqr> side must be one of 'L', 'R'"):
        lua.execute("local r = torch.ormqr(m, tau, c, 'X')")


@pytest.mark.parametrize("shape", [(3, 4), (1, 5), (2, 7), (4, 4), (6, 2)])
def test_geqrf_orgqr_wide_and_tall(lua, shape):
    """Torch7 runs ?orgqr(rows, k, k) with k = #tau: q has m's shape, its first k columns
    are Q's (all of the rows x rows Q for a wide matrix), the others keep m's values."""
    rows, cols = shape
    k = min(shape)
    a = np.random.default_rng(13).standard_normal(shape)
    lua["a"] = noncontig(a)
    lua.execute("m, tau = torch.geqrf(a); q = torch.orgqr(m, tau)")
    m, tau, q = lua.eval("m"), lua.eval("tau"), lua.eval("q")
    assert m.shape == shape and tau.shape == (k,) and q.shape == shape
    qk = q[:, :k]
    np.testing.assert_allclose(qk.T @ qk, np.eye(k), atol=1e-12)
    np.testing.assert_allclose(qk @ np.triu(m[:k]), a, atol=1e-12)
    np.testing.assert_array_equal(q[:, k:], m[:, k:])
    # numpy's R agrees up to the signs of its rows
    r_np = np.linalg.qr(a, mode="r")
    np.testing.assert_allclose(np.abs(np.triu(m[:k])), np.abs(r_np), atol=1e-12)
    # the result tensor given by the caller is the one filled and returned
    lua.execute("q2 = torch.Tensor(2, 2); q3 = torch.orgqr(q2, m, tau)")
    assert lua.eval("torch.pointer(q2) == torch.pointer(q3)")
    np.testing.assert_allclose(lua.eval("q2"), q, atol=1e-15)


def test_ormqr_wide_reflectors(lua):
    """Q of a wide matrix's reflectors is rows x rows, for either side and transposition."""
    rng = np.random.default_rng(14)
    a, c, d = rng.standard_normal((3, 5)), rng.standard_normal((3, 4)), rng.standard_normal((2, 3))
    lua["a"], lua["c"], lua["d"] = a, c, d
    lua.execute("m, tau = torch.geqrf(a)")
    q = lua.eval("torch.orgqr(m, tau)")[:, :3]
    np.testing.assert_allclose(q @ np.triu(lua.eval("m")), a, atol=1e-12)
    for call, want in [("c", q @ c), ("c, 'L', 'T'", q.T @ c), ("d, 'R'", d @ q), ("d, 'R', 'T'", d @ q.T)]:
        np.testing.assert_allclose(lua.eval(f"torch.ormqr(m, tau, {call})"), want, atol=1e-12)

