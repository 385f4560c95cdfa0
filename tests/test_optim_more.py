"""optim's adagrad, rmsprop, lbfgs (fixed step and with optim.lswolfe), cg and polyinterp
against NumPy implementations of Torch7's algorithms, step for step: the same opfunc (a
Python function both sides call) gives the same f and gradient, and x, the f history and
the state fields must agree after every call."""
import numpy as np
import pytest

import sparktorch7 as st


@pytest.fixture
def lua():
    state = st.LuaState()
    state.execute("require 'optim'; torch.setdefaulttensortype('torch.DoubleTensor')")
    yield state
    state.close()


# ---------------------------------------------------------------- objectives
def rosenbrock(x):
    x = np.asarray(x, dtype=float)
    f = np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)
    g = np.zeros_like(x)
    g[:-1] += -400.0 * x[:-1] * (x[1:] - x[:-1] ** 2) - 2.0 * (1.0 - x[:-1])
    g[1:] += 200.0 * (x[1:] - x[:-1] ** 2)
    return float(f), g


A = np.array([1.0, 2.0, 0.5, 3.0])
B = np.array([0.3, -0.2, 0.1, 0.0])


def quadratic(x):
    x = np.asarray(x, dtype=float)
    return float(0.5 * np.sum(A * x * x) + B @ x), A * x + B


# Lua calls the Python objective (a Python list comes back indexed from 0)
RUN = """function(objective, x0, calls, config, method, fields)
    local x = x0:clone()
    local function opfunc(xv)
       local r = objective(xv)
       return r[0], r[1]:clone()
    end
    local state = {}
    local xs, hist, evals, kept = {}, {}, {}, {}
    for c = 1, calls do
       local _, fs, n = optim[method](opfunc, x, config, state)
       xs[c] = x:clone()
       hist[c] = torch.Tensor(fs)
       evals[c] = n or -1
       kept[c] = {}
       for _, name in ipairs(fields) do
          local v = state[name]
          kept[c][name] = torch.isTensor(v) and v:clone() or v
       end
    end
    return xs, hist, evals, kept
end"""


def run(lua, objective, x0, calls, config, method, fields=()):
    def obj(x):
        f, g = objective(np.array(x, dtype=float))
        return [f, g]
    xs, hist, evals, kept = lua.eval(RUN)(obj, np.asarray(x0, dtype=float), calls, config, method,
                                          list(fields))
    return ([np.asarray(xs[i]) for i in range(1, calls + 1)],
            [np.atleast_1d(np.asarray(hist[i])) for i in range(1, calls + 1)],
            [evals[i] for i in range(1, calls + 1)],
            [kept[i] for i in range(1, calls + 1)])


# ---------------------------------------------------------------- adagrad, rmsprop
@pytest.mark.parametrize("cfg", [
    dict(learningRate=0.1),
    dict(learningRate=0.2, learningRateDecay=0.05, weightDecay=0.01),
])
def test_adagrad_matches_numpy(lua, cfg):
    x0 = np.array([1.0, -1.0, 2.0, 0.5])
    xs, hist, _, kept = run(lua, quadratic, x0, 6, cfg, "adagrad", ["paramVariance", "paramStd", "evalCounter"])
    lr, lrd, wd = cfg["learningRate"], cfg.get("learningRateDecay", 0), cfg.get("weightDecay", 0)
    x, var = x0.copy(), np.zeros(4)
    for n in range(6):
        f, g = quadratic(x)
        np.testing.assert_allclose(hist[n], [f], rtol=1e-13)
        g = g + wd * x
        var = var + g * g
        std = np.sqrt(var) + 1e-10
        x = x - lr / (1 + n * lrd) * g / std
        np.testing.assert_allclose(xs[n], x, rtol=1e-12)
        np.testing.assert_allclose(kept[n]["paramVariance"], var, rtol=1e-12)
        np.testing.assert_allclose(kept[n]["paramStd"], std, rtol=1e-12)
        assert kept[n]["evalCounter"] == n + 1
    assert quadratic(xs[-1])[0] < quadratic(x0)[0]


@pytest.mark.parametrize("cfg", [
    dict(learningRate=0.05),
    dict(learningRate=0.02, alpha=0.9, epsilon=1e-6, weightDecay=0.1, initialMean=0.5),
])
def test_rmsprop_matches_numpy(lua, cfg):
    x0 = np.array([1.0, -1.0, 2.0, 0.5])
    xs, hist, _, kept = run(lua, quadratic, x0, 6, cfg, "rmsprop", ["m", "tmp"])
    lr, alpha = cfg["learningRate"], cfg.get("alpha", 0.99)
    eps, wd = cfg.get("epsilon", 1e-8), cfg.get("weightDecay", 0)
    x, m = x0.copy(), np.full(4, cfg.get("initialMean", 0.0))
    for n in range(6):
        f, g = quadratic(x)
        np.testing.assert_allclose(hist[n], [f], rtol=1e-13)
        g = g + wd * x
        m = alpha * m + (1 - alpha) * g * g
        tmp = np.sqrt(m) + eps
        x = x - lr * g / tmp
        np.testing.assert_allclose(xs[n], x, rtol=1e-12)
        np.testing.assert_allclose(kept[n]["m"], m, rtol=1e-12)
        np.testing.assert_allclose(kept[n]["tmp"], tmp, rtol=1e-12)
    assert quadratic(xs[-1])[0] < quadratic(x0)[0]


# ---------------------------------------------------------------- polyinterp
def np_polyinterp(points, xmin=None, xmax=None, trace=None):
    points = np.asarray(points, dtype=float)
    n = points.shape[0]
    order = 2 * n - 1
    if n == 2 and xmin is None and xmax is None:
        if trace is not None:
            trace.append("cubic")
        lo = int(np.argmin(points[:, 0]))
        hi = 1 - lo
        x1, f1, g1 = points[lo]
        x2, f2, g2 = points[hi]
        d1 = g1 + g2 - 3 * (f1 - f2) / (x1 - x2)
        d2sq = d1 * d1 - g1 * g2
        if d2sq >= 0:
            d2 = np.sqrt(d2sq)
            t = x2 - (x2 - x1) * ((g2 + d2 - d1) / (g2 - g1 + 2 * d2))
            return min(max(t, x1), x2)
        return (x1 + x2) / 2
    if trace is not None:
        trace.append("general")
    xs = points[:, 0]
    xmin = xs.min() if xmin is None else xmin
    xmax = xs.max() if xmax is None else xmax
    Am = np.zeros((2 * n, order + 1))
    b = np.zeros(2 * n)
    for i in range(n):
        x = xs[i]
        for j in range(order, -1, -1):
            Am[i, order - j] = x ** j
        b[i] = points[i, 1]
        for j in range(1, order + 1):
            Am[n + i, j - 1] = (order - j + 1) * x ** (order - j)
        b[n + i] = points[i, 2]
    params = np.linalg.solve(Am, b)
    params[np.abs(params) <= 1e-12] = 0
    dparams = np.array([params[k] * (order - k) for k in range(order)])
    cands = [xmin, xmax] + list(xs)
    if np.all(np.isfinite(dparams)):
        c = dparams.copy()
        c[np.abs(c) < 1e-12] = 0
        nz = np.flatnonzero(c)
        if nz.size:
            trailing = len(c) - 1 - nz[-1]
            c = c[nz[0]:nz[-1] + 1]
            deg = len(c) - 1
            roots = []
            if deg == 1:
                roots = [complex(-c[1] / c[0])]
            elif deg > 1:
                comp = np.diag(np.ones(deg - 1), -1)
                comp[0, :] = -c[1:] / c[0]
                roots = list(np.linalg.eigvals(comp).astype(complex))
            roots += [0j] * trailing
            cands += [r.real for r in roots if r.imag == 0]
    fmin, best = np.inf, (xmin + xmax) / 2
    for x in cands:
        if xmin <= x <= xmax:
            fx = np.polyval(params, x)
            if fx < fmin:
                best, fmin = x, fx
    return best


@pytest.mark.parametrize("points, bounds", [
    ([[0.0, 1.0, -2.0], [1.0, 0.5, 1.0]], None),               # cubic, interior minimum
    ([[1.0, 0.5, 1.0], [0.0, 1.0, -2.0]], None),               # the same, points swapped
    ([[0.0, 1.0, -1.0], [2.0, 3.0, 5.0]], None),
    ([[0.0, 1.0, -1.0], [0.5, 0.2, -0.5]], (0.505, 5.0)),      # extrapolation, as lswolfe asks
    ([[0.0, 0.0, -1.0], [1.0, -2.0, -3.0]], (1.01, 10.0)),     # still falling: the upper bound
    ([[0.0, 1.0, -1.0], [1.0, 0.2, 0.1], [2.0, 0.8, 1.0]], None),   # three points, quintic
])
def test_polyinterp_matches_numpy(lua, points, bounds):
    f = lua.eval("function(p, lo, hi) return (optim.polyinterp(p, lo, hi)) end")
    lo, hi = bounds if bounds else (None, None)
    got = f(np.array(points), lo, hi)
    want = np_polyinterp(points, lo, hi)
    assert got == pytest.approx(want, rel=1e-9, abs=1e-12)
    if bounds:
        assert lo <= got <= hi


# ---------------------------------------------------------------- lbfgs and lswolfe
def np_lswolfe(opfunc, x, t, d, f, g, gtd, c1=1e-4, c2=0.9, tolX=1e-9, maxIter=20, trace=None):
    x0 = x.copy()
    x = x0 + t * d
    f_new, g_new = opfunc(x)
    evals = 1
    gtd_new = g_new @ d
    it, t_prev, done = 0, 0.0, False
    f_prev, g_prev, gtd_prev = f, g.copy(), gtd
    bracket = None
    while it < maxIter:
        if f_new > f + c1 * t * gtd or (it > 1 and f_new >= f_prev):
            bracket, bf, bg = [t_prev, t], [f_prev, f_new], [g_prev.copy(), g_new.copy()]
            break
        elif abs(gtd_new) <= -c2 * gtd:
            bracket, bf, bg = [t], [f_new], [g_new.copy()]
            done = True
            break
        elif gtd_new >= 0:
            bracket, bf, bg = [t_prev, t], [f_prev, f_new], [g_prev.copy(), g_new.copy()]
            break
        tmp = t_prev
        t_prev = t
        t = np_polyinterp([[tmp, f_prev, gtd_prev], [t, f_new, gtd_new]],
                          t + 0.01 * (t - tmp), t * 10, trace)
        f_prev, g_prev, gtd_prev = f_new, g_new.copy(), gtd_new
        x = x0 + t * d
        f_new, g_new = opfunc(x)
        evals += 1
        gtd_new = g_new @ d
        it += 1
    if it == maxIter:
        bracket, bf, bg = [0.0, t], [f, f_new], [g.copy(), g_new.copy()]
    insuf = False
    while not done and it < maxIter:
        lo = int(np.argmin(bf))
        f_lo = bf[lo]
        hi = 1 - lo
        t = np_polyinterp([[bracket[0], bf[0], bg[0] @ d], [bracket[1], bf[1], bg[1] @ d]], trace=trace)
        bmax, bmin = max(bracket), min(bracket)
        if min(bmax - t, t - bmin) / (bmax - bmin) < 0.1:
            if insuf or t >= bmax or t <= bmin:
                if abs(t - bmax) < abs(t - bmin):
                    t = bmax - 0.1 * (bmax - bmin)
                else:
                    t = bmin + 0.1 * (bmax - bmin)
                insuf = False
            else:
                insuf = True
        else:
            insuf = False
        x = x0 + t * d
        f_new, g_new = opfunc(x)
        evals += 1
        gtd_new = g_new @ d
        it += 1
        if f_new > f + c1 * t * gtd or f_new >= f_lo:
            bracket[hi], bf[hi], bg[hi] = t, f_new, g_new.copy()
        else:
            if abs(gtd_new) <= -c2 * gtd:
                done = True
            elif gtd_new * (bracket[hi] - bracket[lo]) >= 0:
                bracket[hi], bf[hi], bg[hi] = bracket[lo], bf[lo], bg[lo].copy()
            bracket[lo], bf[lo], bg[lo] = t, f_new, g_new.copy()
        if not done and abs((bracket[0] - bracket[1]) * gtd_new) < tolX:
            break
    lo = int(np.argmin(bf))
    t = bracket[lo]
    return bf[lo], bg[lo].copy(), x0 + t * d, t, evals


def np_lbfgs(opfunc, x, state, maxIter=20, maxEval=None, tolFun=1e-5, tolX=1e-9, nCorrection=100,
             learningRate=1.0, lineSearch=None, trace=None):
    maxEval = maxIter * 1.25 if maxEval is None else maxEval
    state.setdefault("funcEval", 0)
    state.setdefault("nIter", 0)
    f, g = opfunc(x)
    hist, evals = [f], 1
    state["funcEval"] += 1
    if np.abs(g).sum() <= tolFun:
        return x, hist, None
    d, t = state.get("d"), state.get("t")
    dirs, stps = state.get("old_dirs"), state.get("old_stps")
    Hdiag, g_old, f_old = state.get("Hdiag"), state.get("g_old"), state.get("f_old")
    n = 0
    while n < maxIter:
        n += 1
        state["nIter"] += 1
        if state["nIter"] == 1:
            d = -g
            dirs, stps, Hdiag = [], [], 1.0
        else:
            y = g - g_old
            s = d * t
            ys = y @ s
            if ys > 1e-10:
                if len(dirs) == nCorrection:
                    dirs.pop(0)
                    stps.pop(0)
                dirs.append(s)
                stps.append(y)
                Hdiag = ys / (y @ y)
            k = len(dirs)
            ro = [1.0 / (stps[i] @ dirs[i]) for i in range(k)]
            al = [0.0] * k
            q = -g
            for i in range(k - 1, -1, -1):
                al[i] = (dirs[i] @ q) * ro[i]
                q = q - al[i] * stps[i]
            d = q * Hdiag
            for i in range(k):
                be = (stps[i] @ d) * ro[i]
                d = d + (al[i] - be) * dirs[i]
        g_old = g.copy()
        f_old = f
        gtd = g @ d
        if gtd > -tolX:
            break
        t = min(1.0, 1.0 / np.abs(g).sum()) * learningRate if state["nIter"] == 1 else learningRate
        ls_evals = 0
        if lineSearch:
            f, g, x, t, ls_evals = np_lswolfe(opfunc, x, t, d, f, g, gtd, trace=trace)
            hist.append(f)
        else:
            x = x + t * d
            if n != maxIter:
                f, g = opfunc(x)
                ls_evals = 1
                hist.append(f)
        evals += ls_evals
        state["funcEval"] += ls_evals
        if n == maxIter or evals >= maxEval:
            break
        if np.abs(g).sum() <= tolFun:
            break
        if np.abs(d * t).sum() <= tolX:
            break
        if abs(f - f_old) < tolX:
            break
    state.update(d=d, t=t, old_dirs=dirs, old_stps=stps, Hdiag=Hdiag, g_old=g_old, f_old=f_old)
    return x, hist, evals


LBFGS_FIELDS = ["funcEval", "nIter", "t", "Hdiag", "f_old", "d", "g_old"]


def check_lbfgs(lua, objective, x0, calls, config, line_search):
    lua_config = dict(config)
    if line_search:
        lua_config["lineSearch"] = lua.eval("optim.lswolfe")
    xs, hist, evals, kept = run(lua, objective, x0, calls, lua_config, "lbfgs", LBFGS_FIELDS)
    state, x, trace = {}, np.asarray(x0, dtype=float), []
    for c in range(calls):
        x, h, n = np_lbfgs(objective, x, state, lineSearch=line_search, trace=trace, **config)
        np.testing.assert_allclose(xs[c], x, rtol=1e-8, atol=1e-12)
        np.testing.assert_allclose(hist[c], h, rtol=1e-8, atol=1e-12)
        assert evals[c] == n
        for name in ["funcEval", "nIter"]:
            assert kept[c][name] == state[name]
        for name in ["t", "Hdiag", "f_old"]:
            assert kept[c][name] == pytest.approx(state[name], rel=1e-8, abs=1e-12)
        np.testing.assert_allclose(kept[c]["d"], state["d"], rtol=1e-7, atol=1e-10)
        np.testing.assert_allclose(kept[c]["g_old"], state["g_old"], rtol=1e-8, atol=1e-10)
    return xs, hist, trace


def test_lbfgs_fixed_step_matches_numpy(lua):
    x0 = [-1.2, 1.0, -0.5, 0.8]
    xs, hist, _ = check_lbfgs(lua, rosenbrock, x0, 3, dict(maxIter=15, learningRate=0.3), False)
    assert hist[-1][-1] < hist[0][0]


def test_lbfgs_on_a_quadratic_with_few_corrections(lua):
    # nCorrection 2: the history is shifted (the oldest pair forgotten)
    xs, hist, _ = check_lbfgs(lua, quadratic, [1.0, -1.0, 2.0, 0.5], 2,
                              dict(maxIter=8, nCorrection=2, learningRate=0.5), False)
    assert hist[-1][-1] < hist[0][0]


def test_lbfgs_with_wolfe_line_search_matches_numpy(lua):
    x0 = [-1.2, 1.0]
    # learningRate 0.1: the first trial steps are short, so the search extrapolates
    xs, hist, trace = check_lbfgs(lua, rosenbrock, x0, 2, dict(maxIter=25, learningRate=0.1), True)
    # the line search both extrapolated (polyinterp with bounds) and zoomed (cubic of two)
    assert "general" in trace and "cubic" in trace
    assert rosenbrock(xs[-1])[0] < 1e-3 < rosenbrock(np.array(x0))[0]


def test_lswolfe_directly_matches_numpy(lua):
    x0, d = np.array([-1.2, 1.0]), np.array([1.0, 0.0])
    f0, g0 = rosenbrock(x0)
    ls = lua.eval("""function(objective, x, d, t, f, g, gtd)
        local function opfunc(xv) local r = objective(xv); return r[0], r[1]:clone() end
        local fn, gn, xn, tn, n = optim.lswolfe(opfunc, x, t, d, f, g, gtd)
        return fn, gn:clone(), xn:clone(), tn, n
    end""")
    obj = lambda x: list(rosenbrock(np.array(x, dtype=float)))
    for t in (1e-3, 0.5, 3.0):
        trace = []
        got = ls(obj, x0.copy(), d, t, f0, g0, float(g0 @ d))
        want = np_lswolfe(rosenbrock, x0.copy(), t, d, f0, g0, float(g0 @ d), trace=trace)
        assert got[0] == pytest.approx(want[0], rel=1e-9)
        np.testing.assert_allclose(got[1], want[1], rtol=1e-9)
        np.testing.assert_allclose(got[2], want[2], rtol=1e-9)
        assert got[3] == pytest.approx(want[3], rel=1e-9)
        assert got[4] == want[4]
        if t == 1e-3:
            assert "general" in trace      # a short first step: extrapolated
        assert got[0] <= f0 + 1e-4 * got[3] * float(g0 @ d)   # sufficient decrease holds


# ---------------------------------------------------------------- cg
def cubic(f2, f3, d2, d3, z3):
    A_ = 6 * (f2 - f3) / z3 + 3 * (d2 + d3)
    B_ = 3 * (f3 - f2) - z3 * (d3 + 2 * d2)
    return A_, B_, B_ * B_ - A_ * d2 * z3 * z3


def np_cg(opfunc, x, rho=0.01, sig=0.5, intp=0.1, ext=3.0, maxIter=20, ratio=100, maxEval=None):
    maxEval = maxIter * 1.25 if maxEval is None else maxEval
    i, fx = 0, []
    f1, df1 = opfunc(x)
    fx.append(f1)
    i += 1
    s = -df1
    d1 = -(s @ s)
    z1 = 1.0 / (1 - d1)
    while i < abs(maxEval):
        x0, f0, df0 = x.copy(), f1, df1.copy()
        x = x + z1 * s
        f2, df2 = opfunc(x)
        i += 1
        d2 = df2 @ s
        f3, d3, z3 = f1, d1, -z1
        m = min(maxIter, maxEval - i)
        success, limit = False, -1
        while True:
            while (f2 > f1 + z1 * rho * d1 or d2 > -sig * d1) and m > 0:
                limit = z1
                if f2 > f1:
                    z2 = z3 - (0.5 * d3 * z3 * z3) / (d3 * z3 + f2 - f3)
                else:
                    A_, B_, disc = cubic(f2, f3, d2, d3, z3)
                    z2 = (np.sqrt(disc) - B_) / A_ if disc >= 0 else np.nan
                if not np.isfinite(z2):
                    z2 = z3 / 2
                z2 = max(min(z2, intp * z3), (1 - intp) * z3)
                z1 += z2
                x = x + z2 * s
                f2, df2 = opfunc(x)
                i += 1
                m -= 1
                d2 = df2 @ s
                z3 -= z2
            if f2 > f1 + z1 * rho * d1 or d2 > -sig * d1:
                break
            elif d2 > sig * d1:
                success = True
                break
            elif m == 0:
                break
            A_, B_, disc = cubic(f2, f3, d2, d3, z3)
            z2 = -d2 * z3 * z3 / (B_ + np.sqrt(disc)) if disc >= 0 else np.nan
            if not np.isfinite(z2) or z2 < 0:
                z2 = z1 * (ext - 1) if limit < -0.5 else (limit - z1) / 2
            elif limit > -0.5 and z2 + z1 > limit:
                z2 = (limit - z1) / 2
            elif limit < -0.5 and z2 + z1 > z1 * ext:
                z2 = z1 * (ext - 1)
            elif z2 < -z3 * intp:
                z2 = -z3 * intp
            elif limit > -0.5 and z2 < (limit - z1) * (1 - intp):
                z2 = (limit - z1) * (1 - intp)
            f3, d3, z3 = f2, d2, -z2
            z1 += z2
            x = x + z2 * s
            f2, df2 = opfunc(x)
            i += 1
            m -= 1
            d2 = df2 @ s
        if success:
            f1 = f2
            fx.append(f1)
            ss = (df2 @ df2 - df2 @ df1) / (df1 @ df1)
            s = s * ss - df2
            df1, df2 = df2.copy(), df1.copy()
            d2 = df1 @ s
            if d2 > 0:
                s = -df1
                d2 = -(s @ s)
            z1 = z1 * min(ratio, d1 / (d2 - 1e-320))
            d1 = d2
        else:
            x, f1, df1 = x0, f0, df0
            break     # Torch7 stops at the first failed line search
    return x, fx, i


@pytest.mark.parametrize("objective, x0, config", [
    (rosenbrock, [0.0, 0.0], dict(maxEval=25)),              # minimize.m's example, -25 evaluations
    (rosenbrock, [-1.2, 1.0, -0.5, 0.8], dict(maxIter=30)),
    (quadratic, [1.0, -1.0, 2.0, 0.5], dict(maxIter=10, rho=0.05, sig=0.3, ext=2.0)),
])
def test_cg_matches_numpy(lua, objective, x0, config):
    xs, hist, evals, _ = run(lua, objective, x0, 2, config, "cg")
    x = np.asarray(x0, dtype=float)
    cfg = {("intp" if k == "int" else k): v for k, v in config.items()}
    for c in range(2):
        if c > 0 and np.linalg.norm(objective(x)[1]) < 1e-9:
            # started at the minimum: the searches then decide on rounding noise (an extra
            # evaluation or not); the call must stay at the minimum
            np.testing.assert_allclose(xs[c], x, rtol=1e-9, atol=1e-12)
            np.testing.assert_allclose(hist[c], objective(x)[0], rtol=1e-9)
            continue
        x, fx, n = np_cg(objective, x, **cfg)
        # the same steps (the evaluation counts agree exactly); the values to 1e-5, as CG's cubic
        # interpolation amplifies last-bit differences over its line searches
        np.testing.assert_allclose(xs[c], x, rtol=1e-5, atol=1e-12)
        np.testing.assert_allclose(hist[c], fx, rtol=1e-5, atol=1e-12)
        assert evals[c] == n
    assert objective(xs[-1])[0] < objective(np.asarray(x0, dtype=float))[0]


def test_cg_keeps_its_buffers_in_state(lua):
    r = lua.eval("""(function()
        local state = {}
        local x = torch.Tensor{0.5, -0.5}
        optim.cg(function(v) return v:dot(v), v * 2 end, x, {maxIter = 5}, state)
        return torch.isTensor(state.s) and torch.isTensor(state.df1) and torch.isTensor(state.x0)
               and state.s:nElement() == 2, x:norm()
    end)()""")
    assert r[0] is True
    assert r[1] < 1e-6


# ---------------------------------------------------------------- errors
@pytest.mark.parametrize("method", ["adagrad", "rmsprop", "lbfgs", "cg"])
def test_bad_opfunc_is_named(lua, method):
    with pytest.raises(st.LuaError, match=rf"<optim.{method}> opfunc must return f\(x\) and a gradient of 3 elements"):
        lua.eval(f"optim.{method}(function(x) return 1, torch.zeros(2) end, torch.zeros(3), {{}})")
    with pytest.raises(st.LuaError, match=rf"<optim.{method}> opfunc must be a function, not a number"):
        lua.eval(f"optim.{method}(3, torch.zeros(3))")


def test_lbfgs_line_search_must_be_a_function(lua):
    with pytest.raises(st.LuaError, match=r"<optim.lbfgs> config.lineSearch must be a function"):
        lua.eval("optim.lbfgs(function(x) return 1, x:clone() end, torch.ones(3), {lineSearch = 'wolfe'})")


def test_polyinterp_bad_points(lua):
    with pytest.raises(st.LuaError, match=r"<optim.polyinterp> points must be an N x 3 tensor"):
        lua.eval("optim.polyinterp(torch.zeros(2, 2))")
