"""TensorMath constructors, random numbers and indexing ops."""
import numpy as np
import pytest

import sparktorch7 as st


@pytest.fixture
def lua():
    state = st.LuaState()
    state.execute("require 'torch'")
    return state


# ---------------------------------------------------------------- constructors
def test_zeros_ones_eye_in_both_forms(lua):
    np.testing.assert_array_equal(lua.eval("torch.zeros(2, 3)"), np.zeros((2, 3)))
    np.testing.assert_array_equal(lua.eval("torch.ones(torch.LongStorage({2, 2}))"), np.ones((2, 2)))
    np.testing.assert_array_equal(lua.eval("torch.IntTensor():ones(3)"), np.ones(3, dtype=np.int32))
    np.testing.assert_array_equal(lua.eval("(function() local r = torch.FloatTensor(); torch.zeros(r, 4); return r end)()"),
                                  np.zeros(4, dtype=np.float32))
    np.testing.assert_array_equal(lua.eval("torch.eye(3)"), np.eye(3))
    np.testing.assert_array_equal(lua.eval("torch.eye(2, 4)"), np.eye(2, 4))
    assert lua.eval("torch.zeros(2, 'torch.FloatTensor')").dtype == np.float32


def test_range_linspace_logspace(lua):
    np.testing.assert_array_equal(lua.eval("torch.range(1, 5)"), np.arange(1, 6.0))
    np.testing.assert_array_equal(lua.eval("torch.range(1, 0, -1)"), [1.0, 0.0])
    np.testing.assert_array_equal(lua.eval("torch.range(0, 1, 0.25)"), np.arange(0, 1.01, 0.25))
    assert lua.eval("torch.DoubleTensor():range(0.6, 0.9, 0.1):size(1)") == 4
    assert lua.eval("torch.FloatTensor():range(1, 10, 0.3):size(1)") == 31
    np.testing.assert_allclose(lua.eval("torch.linspace(0, 1, 5)"), np.linspace(0, 1, 5))
    np.testing.assert_allclose(lua.eval("torch.logspace(0, 2, 3)"), [1, 10, 100])
    assert lua.eval("torch.linspace(0, 1):size(1)") == 100
    # non-contiguous results keep their shape and are filled in row-major order
    got = lua.eval("(function() local x = torch.zeros(2, 3); x:narrow(2, 2, 2):range(0, 3); return x end)()")
    np.testing.assert_array_equal(got, [[0, 0, 1], [0, 2, 3]])
    with pytest.raises(st.LuaError, match="<torch.linspace> cannot make 1 point between the distinct endpoints"):
        lua.execute("local r = torch.linspace(0, 1, 1)")
    with pytest.raises(st.LuaError, match="<torch.range> upper bound and step sign are inconsistent"):
        lua.execute("local r = torch.range(0, 1, -1)")


def test_cat(lua):
    rng = np.random.default_rng(1)
    a, b, c = rng.random((2, 3)), rng.random((4, 3)), rng.random((2, 5))
    lua["a"], lua["b"], lua["c"] = a, b, c
    np.testing.assert_array_equal(lua.eval("torch.cat(a, b, 1)"), np.concatenate([a, b]))
    np.testing.assert_array_equal(lua.eval("torch.cat(a, c)"), np.concatenate([a, c], 1))  # default: last dim
    np.testing.assert_array_equal(lua.eval("torch.cat({a, a:t():t(), b}, 1)"), np.concatenate([a, a, b]))
    np.testing.assert_array_equal(lua.eval("torch.cat(torch.Tensor(), a, 1)"), a)  # empty tensors are skipped
    np.testing.assert_array_equal(
        lua.eval("(function() local r = torch.FloatTensor(); torch.cat(r, {a, b}, 1); return r end)()"),
        np.concatenate([a, b]).astype(np.float32))
    with pytest.raises(st.LuaError, match=r"<torch.cat> inconsistent tensor sizes 2x3 and 2x5"):
        lua.execute("local r = torch.cat(a, c, 1)")
    with pytest.raises(st.LuaError, match="expected at least one tensor"):
        lua.execute("local r = torch.cat({})")


def test_reshape_diag_tril_triu_histc(lua):
    x = np.arange(12.0).reshape(3, 4)
    lua["x"] = x
    np.testing.assert_array_equal(lua.eval("torch.reshape(x:t(), 2, 6)"), x.T.reshape(2, 6))
    np.testing.assert_array_equal(lua.eval("x:reshape(4, 3)"), x.reshape(4, 3))
    np.testing.assert_array_equal(lua.eval("torch.diag(x)"), np.diag(x))
    np.testing.assert_array_equal(lua.eval("torch.diag(x, 1)"), np.diag(x, 1))
    np.testing.assert_array_equal(lua.eval("torch.diag(x, -1)"), np.diag(x, -1))
    np.testing.assert_array_equal(lua.eval("torch.diag(torch.Tensor({1, 2}), -1)"), np.diag([1.0, 2.0], -1))
    for k in (-1, 0, 2):
        np.testing.assert_array_equal(lua.eval(f"torch.tril(x, {k})"), np.tril(x, k))
        np.testing.assert_array_equal(lua.eval(f"torch.triu(x, {k})"), np.triu(x, k))
    np.testing.assert_array_equal(lua.eval("torch.histc(torch.Tensor({2, 4, 2, 2, 5, 4}), 5, 1, 5)"), [0, 3, 0, 2, 1])
    v = np.random.default_rng(2).random(1000)
    lua["v"] = v
    np.testing.assert_array_equal(lua.eval("torch.histc(v, 10)"), np.histogram(v, 10, (v.min(), v.max()))[0])
    np.testing.assert_array_equal(lua.eval("torch.bhistc(torch.Tensor({{1, 2, 2}, {3, 3, 1}}), 3, 1, 3)"),
                                  [[1, 2, 0], [1, 0, 2]])


# ---------------------------------------------------------------- random
def test_seeded_streams_repeat_and_match_mt19937(lua):
    lua.execute("torch.manualSeed(5489)")
    assert lua.eval("torch.random()") == 3499211612  # the reference MT19937 first output
    lua.execute("torch.manualSeed(123)")
    a = lua.eval("torch.rand(3, 3)")
    lua.execute("torch.manualSeed(123)")
    np.testing.assert_array_equal(lua.eval("torch.rand(3, 3)"), a)
    # Torch7's uniform is one 32-bit MT19937 draw over 2^32 (THRandom.c); numpy's legacy
    # RandomState seeds the same generator the same way, so its raw draws give the values
    draws = np.random.RandomState(123).randint(0, 2 ** 32, size=9, dtype=np.uint32)
    np.testing.assert_array_equal(a, (draws / 2 ** 32).reshape(3, 3))
    assert lua.eval("torch.initialSeed()") == 123
    lua.execute("torch.manualSeed(5489)")
    assert lua.eval("torch.uniform()") == 3499211612 / 2 ** 32


def test_rng_state_and_generators(lua):
    lua.execute("s = torch.getRNGState(); r1 = torch.randn(7); torch.setRNGState(s); r2 = torch.randn(7)")
    np.testing.assert_array_equal(lua.eval("r1"), lua.eval("r2"))
    lua.execute("g = torch.Generator(); torch.manualSeed(g, 7); a = torch.rand(g, 4); torch.manualSeed(g, 7)")
    np.testing.assert_array_equal(lua.eval("torch.rand(g, 4)"), lua.eval("a"))
    with pytest.raises(st.LuaError, match=r"<torch.setRNGState> expected a RNG state"):
        lua.execute("torch.setRNGState(torch.ByteTensor(3))")


def test_distributions(lua):
    lua.execute("torch.manualSeed(1)")
    n = 200000
    u = lua.eval(f"torch.Tensor({n}):uniform(2, 5)")
    assert u.min() >= 2 and u.max() < 5 and abs(u.mean() - 3.5) < 0.02
    g = lua.eval(f"torch.randn({n})")
    assert abs(g.mean()) < 0.01 and abs(g.std() - 1) < 0.01
    g = lua.eval(f"torch.FloatTensor({n}):normal(3, 2)")
    assert g.dtype == np.float32 and abs(g.mean() - 3) < 0.03 and abs(g.std() - 2) < 0.03
    e = lua.eval(f"torch.Tensor({n}):exponential(2)")
    assert abs(e.mean() - 0.5) < 0.01
    ln = lua.eval(f"torch.Tensor({n}):logNormal(0.5, 0.1)")
    assert abs(np.log(ln).mean() - 0.5) < 0.01 and abs(np.log(ln).std() - 0.1) < 0.01
    geo = lua.eval(f"torch.Tensor({n}):geometric(0.25)")
    # Torch7's convention: P(k) = (1 - p) p^(k-1), so the mean is 1 / (1 - p)
    assert geo.min() >= 1 and abs(geo.mean() - 1 / 0.75) < 0.02
    b = lua.eval(f"torch.ByteTensor({n}):bernoulli(0.3)")
    assert set(np.unique(b)) <= {0, 1} and abs(b.mean() - 0.3) < 0.01
    c = lua.eval(f"torch.Tensor({n}):cauchy(0, 1)")
    assert abs(np.median(c)) < 0.02
    r = lua.eval("torch.LongTensor(1000):random(3, 6)")
    assert set(np.unique(r)) == {3, 4, 5, 6}
    assert 1 <= lua.eval("torch.random(10)") <= 10
    assert 0 <= lua.eval("torch.uniform()") < 1
    p = lua.eval("torch.Tensor(1000):bernoulli(torch.Tensor(1000):fill(1))")
    assert (p == 1).all()


def test_randperm_multinomial(lua):
    p = lua.eval("torch.randperm(50)")
    np.testing.assert_array_equal(np.sort(p), np.arange(1, 51))
    lua["prob"] = np.array([[0.2, 0.0, 0.8], [0.0, 1.0, 0.0]])
    s = lua.eval("torch.multinomial(prob, 100, true)")
    assert s.dtype == np.int64 and s.shape == (2, 100)
    assert set(np.unique(s[0])) <= {1, 3} and (s[1] == 2).all()
    s = lua.eval("torch.multinomial(torch.Tensor({1, 1, 1, 0}), 3)")
    assert sorted(s.tolist()) == [1, 2, 3]
    with pytest.raises(st.LuaError, match=r"<torch.multinomial> cannot sample 5 > 4 categories without replacement"):
        lua.execute("local s = torch.multinomial(torch.Tensor({1, 1, 1, 1}), 5)")
    lua.execute("st = torch.multinomialAliasSetup(torch.Tensor({0.5, 0.25, 0.25}))")
    out = lua.eval("torch.multinomialAlias(torch.LongTensor(20000), st)")
    assert abs((out == 1).mean() - 0.5) < 0.02


# Torch7's samplers, written from THTensorRandom.c, fed with the raw MT19937 draws
# (numpy's legacy RandomState seeds MT19937 as THRandom does): uniform = draw / 2^32.
def _mt_uniforms(seed, n):
    return np.random.RandomState(seed).randint(0, 2 ** 32, size=n, dtype=np.uint32) / 2 ** 32


def test_samplers_follow_thrandom(lua):
    """Each sampler is THRandom.c's formula over the same uniform draws."""
    u = _mt_uniforms(77, 12)
    lua.execute("torch.manualSeed(77)")
    got = lua.eval("{torch.normal(1, 2), torch.normal(1, 2), torch.exponential(3), torch.cauchy(1, 2),"
                   " torch.geometric(0.3), torch.bernoulli(0.4), torch.logNormal(0.5, 0.25),"
                   " torch.logNormal(0.5, 0.25), torch.uniform(-2, 3)}")
    def box_muller(x, y):                       # one pair of draws gives two normals
        rho = np.sqrt(-2 * np.log(1 - y))
        return rho * np.cos(2 * np.pi * x), rho * np.sin(2 * np.pi * x)
    n1, n2 = box_muller(u[0], u[1])
    l1, l2 = box_muller(u[6], u[7])
    ref = [n1 * 2 + 1, n2 * 2 + 1, -1 / 3 * np.log(1 - u[2]), 1 + 2 * np.tan(np.pi * (u[3] - 0.5)),
           int(np.log(1 - u[4]) / np.log(0.3)) + 1, float(u[5] <= 0.4),
           np.exp(l1 * 0.25 + 0.5), np.exp(l2 * 0.25 + 0.5), u[8] * 5 - 2]
    np.testing.assert_allclose([got[i] for i in range(1, 10)], ref, rtol=1e-14)
    raw = np.random.RandomState(5).randint(0, 2 ** 32, size=6, dtype=np.uint32).astype(np.int64)
    lua.execute("torch.manualSeed(5)")
    got = lua.eval("{torch.random(), torch.random(7), torch.random(-3, 3), torch.IntTensor(3):random(10, 20)}")
    assert [got[1], got[2], got[3]] == [raw[0], raw[1] % 7 + 1, raw[2] % 7 - 3]
    np.testing.assert_array_equal(got[4], raw[3:6] % 11 + 10)


def _th_multinomial(prob, n, replace, u):
    """THTensor_(multinomial) for a 2D prob, consuming the uniforms u in order."""
    out, ui = [], 0
    for row in np.asarray(prob, dtype=np.float64):
        cum, total = [], 0.0
        for v in row:
            total += float(v)
            cum.append(total)
        cum = [c / total for c in cum]
        picks = []
        for _ in range(n):
            x = u[ui]
            ui += 1
            cum[-1] = 1.0
            lo, hi = 0, len(cum)
            while hi > lo:
                mid = lo + (hi - lo) // 2
                if cum[mid] < x:
                    lo = mid + 1
                else:
                    hi = mid
            picks.append(lo + 1)
            if not replace:
                diff = cum[lo] - (cum[lo - 1] if lo > 0 else 0.0)
                rest = 1.0 - diff
                cum = [((c - diff) if j >= lo else c) / rest for j, c in enumerate(cum)]
        out.append(picks)
    return np.array(out)


@pytest.mark.parametrize("dtype,k,n,replace", [
    ("Double", 7, 40, True),        # the Lua binary search
    ("Float", 300, 1000, True),     # the numpy search (many draws)
    ("Double", 20, 15, False),      # without replacement: renormalised cumulative sums
    ("Float", 9, 5, False),
])
def test_multinomial_draws_are_torch7s(lua, dtype, k, n, replace):
    rng = np.random.default_rng(k)
    prob = rng.random((3, k)) * (rng.random((3, k)) > 0.2)
    prob = prob.astype(np.float32 if dtype == "Float" else np.float64)
    lua["prob"] = prob
    lua.execute("torch.manualSeed(42)")
    got = lua.eval(f"torch.multinomial(prob, {n}, {'true' if replace else 'false'})")
    ref = _th_multinomial(prob, n, replace, _mt_uniforms(42, 3 * n))
    np.testing.assert_array_equal(got, ref)
    assert (prob[np.arange(3)[:, None], got - 1] > 0).all()
    # 1D: the same draws as the first row
    lua.execute("torch.manualSeed(42)")
    got1 = lua.eval(f"torch.multinomial(prob[1], {n}, {'true' if replace else 'false'})")
    np.testing.assert_array_equal(got1, ref[0])
    if not replace:
        with pytest.raises(st.LuaError, match="row 1 has fewer than 3 categories of non-zero probability"):
            lua.execute("torch.multinomial(torch.Tensor({{0, 1, 0, 1}}), 3)")


def test_multinomial_is_a_binary_search(lua):
    """10^5 draws from 10^5 categories (torch7 issue #453): a scan of the categories per
    draw would take 10^10 steps."""
    import time
    lua.execute("p = torch.FloatTensor(100000):fill(1); p:narrow(1, 1, 50000):fill(1e-3); torch.manualSeed(3)")
    t0 = time.perf_counter()
    got = lua.eval("torch.multinomial(p, 100000, true)")
    assert time.perf_counter() - t0 < 3
    p = np.ones(100000, dtype=np.float32)
    p[:50000] = 1e-3
    cum = np.cumsum(p.astype(np.float64))
    cum /= cum[-1]
    cum[-1] = 1
    np.testing.assert_array_equal(got, np.searchsorted(cum, _mt_uniforms(3, 100000), side="left") + 1)


def _th_alias_setup(p, ctype):
    """THTensor_(multinomialAliasSetup) (1-based J; a bucket without alias: J = 1, q = 1)."""
    k = len(p)
    q = (k * p.astype(np.float64)).astype(ctype)
    J = np.full(k, -1)
    small = [i for i in range(k) if q[i] < 1]
    large = [i for i in range(k) if not q[i] < 1]
    while small and large:
        lg, sm = large[-1], small[-1]
        J[sm] = lg
        q[lg] = ctype(float(q[lg]) - (1.0 - float(q[sm])))
        if q[lg] < 1:
            small[-1] = lg
            large.pop()
        else:
            small.pop()
    if q.max() > 1:
        q = (q / q.max()).astype(ctype)
    q[J < 0] = 1
    J[J < 0] = 0
    return J + 1, q


@pytest.mark.parametrize("dtype", ["Double", "Float"])
def test_multinomial_alias_tables_and_draws_are_torch7s(lua, dtype):
    ctype = np.float32 if dtype == "Float" else np.float64
    p = np.random.default_rng(9).random(50).astype(ctype)
    p = (p / p.sum()).astype(ctype)            # sums to 1 only up to rounding: taken as is
    lua["p"] = p
    lua.execute("st = torch.multinomialAliasSetup(p)")
    J, q = _th_alias_setup(p, ctype)
    np.testing.assert_array_equal(lua.eval("st[1]"), J)
    np.testing.assert_array_equal(lua.eval("st[2]"), q)
    lua.execute("torch.manualSeed(11)")
    got = lua.eval("torch.multinomialAlias(torch.LongTensor(500), st)")
    u = _mt_uniforms(11, 1000)
    idx = np.floor(u[0::2] * 50).astype(int)
    np.testing.assert_array_equal(got, np.where(u[1::2] <= q[idx], idx + 1, J[idx]))
    # the alias tables keep the probabilities: K q_i + sum over j aliased to i of (1 - q_j)
    mass = q.astype(np.float64).copy()
    np.add.at(mass, J - 1, 1 - q)
    np.testing.assert_allclose(mass / 50, p, atol=1e-6)


def test_random_errors(lua):
    with pytest.raises(st.LuaError, match=r"<torch.normal> standard deviation must be strictly positive"):
        lua.execute("torch.Tensor(3):normal(0, -1)")
    with pytest.raises(st.LuaError, match=r"<torch.random> upper bound must be larger than lower bound"):
        lua.execute("torch.random(5, 2)")
    with pytest.raises(st.LuaError, match=r"<torch.rand> invalid arguments"):
        lua.execute("local x = torch.rand('a')")


# ---------------------------------------------------------------- indexing
def test_index_family(lua):
    x = np.arange(20.0).reshape(4, 5)
    lua["x"] = x
    lua["i"] = np.array([3, 1], dtype=np.int64)
    np.testing.assert_array_equal(lua.eval("x:index(1, i)"), x[[2, 0]])
    np.testing.assert_array_equal(lua.eval("torch.index(x, 2, i)"), x[:, [2, 0]])
    np.testing.assert_array_equal(lua.eval("x[i]"), x[[2, 0]])
    got = lua.eval("x:clone():indexCopy(1, i, torch.zeros(2, 5))")
    want = x.copy(); want[[2, 0]] = 0
    np.testing.assert_array_equal(got, want)
    got = lua.eval("x:clone():indexAdd(2, i, torch.ones(4, 2))")
    want = x.copy(); want[:, [2, 0]] += 1
    np.testing.assert_array_equal(got, want)
    got = lua.eval("x:clone():indexFill(2, i, -1)")
    want = x.copy(); want[:, [2, 0]] = -1
    np.testing.assert_array_equal(got, want)
    with pytest.raises(st.LuaError, match=r"<torch.index> index 9 out of range \[1, 4\] in dimension 1"):
        lua.execute("local y = x:index(1, torch.LongTensor({9}))")
    with pytest.raises(st.LuaError, match=r"indices must be a torch.LongTensor, got torch.DoubleTensor"):
        lua.execute("local y = x:index(1, torch.Tensor({1}))")


def test_gather_scatter(lua):
    rng = np.random.default_rng(3)
    x = rng.standard_normal((4, 5, 6))
    idx = rng.integers(0, 5, (4, 3, 6))
    lua["x"], lua["idx"] = x, idx + 1
    np.testing.assert_array_equal(lua.eval("torch.gather(x, 2, idx)"), np.take_along_axis(x, idx, 1))
    src = rng.standard_normal((4, 3, 6))
    lua["src"] = src
    perm = np.stack([rng.permutation(5)[:3] for _ in range(4 * 6)]).reshape(4, 6, 3).transpose(0, 2, 1)
    lua["perm"] = perm + 1
    got = lua.eval("torch.zeros(4, 5, 6):scatter(2, perm, src)")
    want = np.zeros((4, 5, 6)); np.put_along_axis(want, perm, src, 1)
    np.testing.assert_array_equal(got, want)
    got = lua.eval("torch.zeros(4, 5, 6):scatter(2, perm, 2.5)")
    want = np.zeros((4, 5, 6)); np.put_along_axis(want, perm, 2.5, 1)
    np.testing.assert_array_equal(got, want)
    v, i = lua.eval("x:max(3)")
    np.testing.assert_array_equal(lua.eval("x:gather(3, select(2, x:max(3)))"), v)
    with pytest.raises(st.LuaError, match=r"<torch.gather> index 23 out of range \[1, 5\] in dimension 2"):
        lua.execute("idx[1][1][1] = 23; local g = torch.gather(x, 2, idx)")


def test_masks_and_nonzero(lua):
    x = np.arange(12.0).reshape(3, 4)
    m = (x % 3 == 0).astype(np.uint8)
    lua["x"], lua["m"] = x, m
    np.testing.assert_array_equal(lua.eval("x:maskedSelect(m)"), x[m == 1])
    np.testing.assert_array_equal(lua.eval("torch.maskedSelect(x:t(), m:t())"), x.T[m.T == 1])
    np.testing.assert_array_equal(lua.eval("torch.Tensor():maskedSelect(x, m)"), x[m == 1])
    got = lua.eval("x:clone():maskedFill(m, -1)")
    np.testing.assert_array_equal(got, np.where(m == 1, -1, x))
    got = lua.eval("x:clone():maskedCopy(m, torch.range(101, 110))")
    want = x.copy(); want[m == 1] = np.arange(101, 101 + m.sum())
    np.testing.assert_array_equal(got, want)
    with pytest.raises(st.LuaError, match=r"<torch.maskedCopy> the source has 2 elements, fewer than the mask selects"):
        lua.execute("x:clone():maskedCopy(m, torch.Tensor({1, 2}))")
    with pytest.raises(st.LuaError, match=r"mask must be a torch.ByteTensor"):
        lua.execute("x:clone():maskedFill(x, 1)")
    np.testing.assert_array_equal(lua.eval("torch.nonzero(m)"), np.argwhere(m) + 1)
    np.testing.assert_array_equal(lua.eval("m:nonzero()"), np.argwhere(m) + 1)
    np.testing.assert_array_equal(lua.eval("(function() local r = torch.LongTensor(); x.nonzero(r, x); return r end)()"),
                                  np.argwhere(x) + 1)


def test_repeat_tensor(lua):
    x = np.arange(6.0).reshape(2, 3)
    lua["x"] = x
    np.testing.assert_array_equal(lua.eval("x:repeatTensor(3, 1, 2)"), np.tile(x, (3, 1, 2)))
    np.testing.assert_array_equal(lua.eval("torch.Tensor():repeatTensor(x, 2, 2)"), np.tile(x, (2, 2)))
    np.testing.assert_array_equal(lua.eval("torch.repeatTensor(x:t(), 1, 2)"), np.tile(x.T, (1, 2)))
    with pytest.raises(st.LuaError, match=r"<torch.repeatTensor> the number of repetitions \(1\) must be at least"):
        lua.execute("local y = x:repeatTensor(2)")
