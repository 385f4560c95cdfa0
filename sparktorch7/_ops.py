"""NumPy kernels of the Lua TensorMath, called as ``torch._np.call(name, ...)``.

Every function receives ndarray views of the Lua tensors (no copies) and plain numbers,
and writes its result into the ``out`` views it is given; nothing is returned unless
stated. Shapes and types were checked on the Lua side.
"""
from __future__ import annotations

import numpy as np

__all__: list[str] = []


def _same_view(a: np.ndarray, b: np.ndarray) -> bool:
    """True when two arrays are views of the very same elements (the bridge gives a
    tensor passed twice, as res and M of addmm, as two ndarray objects)."""
    return (a.shape == b.shape and a.strides == b.strides and a.dtype == b.dtype
            and a.__array_interface__["data"][0] == b.__array_interface__["data"][0])


def _combine(out: np.ndarray, beta, m: np.ndarray, prod: np.ndarray) -> None:
    """out := beta*m + prod (m may be out itself)."""
    if beta == 0:
        out[...] = prod
        return
    if m is not out and _same_view(m, out):
        m = out
    if m is not out and not np.shares_memory(m, out):
        if beta == 1:
            out[...] = m
        else:
            np.multiply(m, beta, out=out, casting="unsafe")
    elif m is not out:
        tmp = np.multiply(m, beta) if beta != 1 else m.copy()
        out[...] = tmp
    elif beta != 1:
        np.multiply(out, beta, out=out, casting="unsafe")
    np.add(out, prod, out=out, casting="unsafe")


def _scaled(prod: np.ndarray, alpha) -> np.ndarray:
    if alpha != 1:
        np.multiply(prod, alpha, out=prod, casting="unsafe")
    return prod


def addmm(out, beta, m, alpha, a, b):
    """out := beta*m + alpha*(a @ b), 2D."""
    if beta == 0 and alpha == 1 and out.flags.c_contiguous and not (
        np.shares_memory(out, a) or np.shares_memory(out, b)
    ):
        np.matmul(a, b, out=out)
        return
    _combine(out, beta, m, _scaled(np.matmul(a, b), alpha))


def addmv(out, beta, m, alpha, a, v):
    """out := beta*m + alpha*(a @ v)."""
    _combine(out, beta, m, _scaled(np.matmul(a, v), alpha))


def addr(out, beta, m, alpha, x, y):
    """out := beta*m + alpha*outer(x, y)."""
    _combine(out, beta, m, _scaled(np.multiply.outer(x, y), alpha))


def baddbmm(out, beta, m, alpha, a, b):
    """out[i] := beta*m[i] + alpha*(a[i] @ b[i])."""
    if beta == 0 and alpha == 1 and out.flags.c_contiguous and not (
        np.shares_memory(out, a) or np.shares_memory(out, b)
    ):
        np.matmul(a, b, out=out)
        return
    _combine(out, beta, m, _scaled(np.matmul(a, b), alpha))


def addbmm(out, beta, m, alpha, a, b):
    """out := beta*m + alpha*sum_i(a[i] @ b[i])."""
    nb, n, k = a.shape
    p = b.shape[2]
    prod = np.matmul(a.transpose(1, 0, 2).reshape(n, nb * k), b.reshape(nb * k, p))
    _combine(out, beta, m, _scaled(prod, alpha))


# ---------------------------------------------------------------- pointwise
def _sigmoid(x, out):
    # the passes in a contiguous temporary: out is often a narrow view with far-apart rows
    t = np.negative(x)
    np.exp(t, out=t)
    t += 1
    np.reciprocal(t, out=out)


def _round(x, out):
    # half away from zero, as C round()
    np.copysign(np.floor(np.abs(x) + 0.5), x, out=out)


def _frac(x, out):
    np.subtract(x, np.trunc(x), out=out)


def _rsqrt(x, out):
    np.sqrt(x, out=out)
    np.reciprocal(out, out=out)


_UNARY = {
    "exp": np.exp, "log": np.log, "log1p": np.log1p, "sqrt": np.sqrt, "sin": np.sin,
    "cos": np.cos, "tan": np.tan, "asin": np.arcsin, "acos": np.arccos, "atan": np.arctan,
    "sinh": np.sinh, "cosh": np.cosh, "tanh": np.tanh, "abs": np.abs, "floor": np.floor,
    "ceil": np.ceil, "neg": np.negative, "trunc": np.trunc, "cinv": np.reciprocal,
    "sign": np.sign, "sigmoid": _sigmoid, "round": _round, "frac": _frac, "rsqrt": _rsqrt,
}


_COMPARE = {"lt": np.less, "le": np.less_equal, "gt": np.greater, "ge": np.greater_equal,
            "eq": np.equal, "ne": np.not_equal}


def pointwise(op, out, x, y, s, s2=None):
    """out := op(x [, y] [, s [, s2]]) for floating x (the Lua side picks the op)."""
    with np.errstate(all="ignore"):
        f = _UNARY.get(op)
        if f is not None:
            f(x, out=out)
        elif op in _COMPARE:
            _COMPARE[op](x, s if y is None else y, out=out, casting="unsafe")
        elif op == "cmax":
            other = s if y is None else y
            out[...] = np.where(x > other, x, other)  # Torch7: x > y ? x : y
        elif op == "cmin":
            other = s if y is None else y
            out[...] = np.where(x < other, x, other)
        elif op == "clamp":
            np.clip(x, s, s2, out=out)
        elif op == "add":
            np.add(x, s, out=out)
        elif op == "csub":
            np.subtract(x, s, out=out)
        elif op == "mul":
            np.multiply(x, s, out=out)
        elif op == "div":
            np.divide(x, s, out=out)
        elif op == "cadd":
            if s == 1:
                np.add(x, y, out=out)
            else:
                np.add(x, np.multiply(y, s), out=out)
        elif op == "ccsub":
            if s == 1:
                np.subtract(x, y, out=out)
            else:
                np.subtract(x, np.multiply(y, s), out=out)
        elif op == "cmul":
            np.multiply(x, y, out=out)
        elif op == "cdiv":
            np.divide(x, y, out=out)
        elif op == "pow":
            np.power(x, s, out=out)
        else:
            raise ValueError(f"sparktorch7._ops.pointwise: unknown op {op!r}")


def reduce_all(op, x):
    """A number: sum (accumulated in float64 as Torch does), max or min of x."""
    if op == "sum":
        return float(np.add.reduce(x, axis=None, dtype=np.float64))
    if op == "max":
        return float(np.max(x))
    if op == "min":
        return float(np.min(x))
    raise ValueError(f"sparktorch7._ops.reduce_all: unknown op {op!r}")


# ---------------------------------------------------------------- random
def bucket_search(out, cum, u):
    """torch.multinomial's draws: for each uniform u, the 1-based index of the first
    bucket of the cumulative distribution cum that is >= u."""
    if u.shape[0] < 65536:
        np.add(np.searchsorted(cum, u, side="left"), 1, out=out)
        return
    # many draws: searching them in order is cache-friendly (about 1.5x faster)
    order = np.argsort(u)
    found = np.searchsorted(cum, u[order], side="left")
    found += 1
    out[order] = found


# ---------------------------------------------------------------- LAPACK
def _lu(a):
    """LU with partial pivoting, packed as LAPACK getrf does (unit-lower L below the diagonal)."""
    lu = np.array(a, dtype=np.float64, copy=True)
    n = lu.shape[0]
    for k in range(n - 1):
        p = k + int(np.argmax(np.abs(lu[k:, k])))
        if p != k:
            lu[[k, p]] = lu[[p, k]]
        if lu[k, k] != 0:
            lu[k + 1:, k] /= lu[k, k]
            lu[k + 1:, k + 1:] -= np.outer(lu[k + 1:, k], lu[k, k + 1:])
    return lu


def _solve_triangular(t, b, lower, unit):
    t = np.tril(t) if lower else np.triu(t)
    if unit:
        np.fill_diagonal(t, 1)
    return np.linalg.solve(t, b)


def _apply_q(m, tau, c, trans):
    """Q c (or Q' c with trans) for Q = H1 H2 ... Hk, the k = len(tau) elementary
    reflectors that geqrf left below the diagonal of m; c has m.shape[0] rows."""
    m = np.asarray(m, dtype=np.float64)
    out = np.array(c, dtype=np.float64)
    k = tau.shape[0]
    # H_i = I - tau_i v v' with v = (0 .. 0, 1, m[i+1:, i]) touches rows i.. only
    for i in (range(k) if trans else range(k - 1, -1, -1)):
        v = np.concatenate(([1.0], m[i + 1:, i]))
        out[i:] -= tau[i] * np.outer(v, v @ out[i:])
    return out


def _pstrf(a, upper):
    """Cholesky with full pivoting: P' A P = U'U (upper) or L L' (lower); 1-based pivots."""
    a = np.array(a, dtype=np.float64, copy=True)
    n = a.shape[0]
    piv = np.arange(n)
    lower = np.zeros_like(a)
    for k in range(n):
        d = np.diag(a)[k:] - np.sum(lower[k:, :k] ** 2, axis=1)
        j = k + int(np.argmax(d))
        if j != k:
            a[[k, j]] = a[[j, k]]
            a[:, [k, j]] = a[:, [j, k]]
            lower[[k, j]] = lower[[j, k]]
            piv[[k, j]] = piv[[j, k]]
        dk = a[k, k] - np.dot(lower[k, :k], lower[k, :k])
        lkk = np.sqrt(max(dk, 0.0))
        lower[k, k] = lkk
        if lkk > 0:
            lower[k + 1:, k] = (a[k + 1:, k] - lower[k + 1:, :k] @ lower[k, :k]) / lkk
    return (lower.T if upper else lower), piv + 1


def lapack(op, *args):
    """Dense linear algebra for the Lua TensorMath; results written into the out views."""
    with np.errstate(all="ignore"):
        if op == "gesv":
            rb, ra, b, a = args
            x = np.linalg.solve(a, b)
            lu = _lu(a)
            rb[...] = x
            ra[...] = lu
        elif op == "trtrs":
            rb, ra, b, a, uplo, trans, diag = args
            t = np.array(a, dtype=np.float64)
            lower = uplo == "L"
            if trans == "T":
                t, lower = t.T, not lower
                t = np.tril(t) if lower else np.triu(t)
            rb[...] = _solve_triangular(t, b, lower, diag == "U")
            ra[...] = a
        elif op == "gels":
            rb, ra, b, a = args
            # A as LAPACK's dgels leaves it: its QR factorisation (dgeqrf) when m >= n, its
            # LQ one (dgelqf, the QR of A') when m < n; an exact zero on the diagonal of the
            # triangular factor is dgels' error
            m, n = a.shape
            if m >= n:
                fac = np.linalg.qr(a, mode="raw")[0].T
            else:
                fac = np.linalg.qr(a.T, mode="raw")[0]
            zero = np.flatnonzero(np.diagonal(fac) == 0)
            if zero.size:
                raise np.linalg.LinAlgError(
                    f"Lapack Error in gels : The {zero[0] + 1}-th diagonal element of the "
                    "triangular factor of A is zero")
            rb[...] = np.linalg.lstsq(a, b, rcond=None)[0]
            ra[...] = fac
        elif op == "symeig":
            re, rv, a, jobz, uplo = args
            if jobz == "V":
                w, v = np.linalg.eigh(a, UPLO="L" if uplo == "L" else "U")
                rv[...] = v
            else:
                w = np.linalg.eigvalsh(a, UPLO="L" if uplo == "L" else "U")
                rv[...] = a
            re[...] = w
        elif op == "eig":
            re, rv, a, jobvr = args
            if jobvr == "V":
                w, v = np.linalg.eig(a)
                real = np.empty(v.shape, dtype=np.float64)
                j, n = 0, w.shape[0]
                while j < n:
                    if w[j].imag != 0 and j + 1 < n:
                        real[:, j] = v[:, j].real
                        real[:, j + 1] = v[:, j].imag
                        j += 2
                    else:
                        real[:, j] = v[:, j].real
                        j += 1
                rv[...] = real
            else:
                w = np.linalg.eigvals(a)
                rv[...] = a
            re[:, 0] = w.real
            re[:, 1] = w.imag
        elif op == "svd":
            ru, rs, rv, a, jobu = args
            u, s, vh = np.linalg.svd(a, full_matrices=(jobu == "A"))
            ru[...] = u
            rs[...] = s
            rv[...] = vh.T
        elif op == "inverse":
            res, a = args[0], args[1]
            res[...] = np.linalg.inv(a)
        elif op == "potrf":
            res, a, *rest = args
            low = np.linalg.cholesky(a)
            res[...] = low if (rest and rest[0] == "L") else low.T
        elif op == "potri":
            res, c, *rest = args
            c = np.array(c, dtype=np.float64)
            if rest and rest[0] == "L":
                full = np.tril(c) @ np.tril(c).T
            else:
                full = np.triu(c).T @ np.triu(c)
            res[...] = np.linalg.inv(full)
        elif op == "potrs":
            res, b, c, uplo = args
            c = np.array(c, dtype=np.float64)
            low = np.tril(c) if uplo == "L" else np.triu(c).T
            y = np.linalg.solve(low, b)
            res[...] = np.linalg.solve(low.T, y)
        elif op == "pstrf":
            res, piv, a, uplo = args
            f, p = _pstrf(a, uplo != "L")
            res[...] = f
            piv[...] = p
        elif op == "qr":
            rq, rr, a = args
            q, r = np.linalg.qr(a)
            rq[...] = q
            rr[...] = r
        elif op == "geqrf":
            rm, rtau, a = args
            h, tau = np.linalg.qr(np.asarray(a, dtype=np.float64), mode="raw")
            rm[...] = h.T  # numpy hands back LAPACK's reflectors transposed
            rtau[...] = tau
        elif op == "orgqr":
            # LAPACK ?orgqr(M=rows, N=k, K=k) as Torch7 calls it: the first k columns
            # become Q's, the others keep the input's values (k = len(tau) <= min(m, n))
            rq, m, tau = args
            k = tau.shape[0]
            q = _apply_q(m, tau, np.eye(m.shape[0], k), False)
            rq[...] = m
            rq[:, :k] = q
        elif op == "ormqr":
            res, m, tau, c, side, trans = args
            if side == "L":
                res[...] = _apply_q(m, tau, c, trans == "T")
            else:  # c Q = (Q' c')', c Q' = (Q c')'
                res[...] = _apply_q(m, tau, np.transpose(c), trans != "T").T
        else:
            raise ValueError(f"sparktorch7._ops.lapack: unknown op {op!r}")


# ---------------------------------------------------------------- convolutions
def _windows(x, kshape, full):
    if full:
        pad = [(0, 0)] * (x.ndim - len(kshape)) + [(s - 1, s - 1) for s in kshape]
        x = np.pad(x, pad)
    return np.lib.stride_tricks.sliding_window_view(x, kshape, axis=tuple(range(x.ndim - len(kshape), x.ndim)))


def conv(out, x, k, mode, xcorr, kind, spatial):
    """out := x (*) k: correlation, or convolution (flipped kernel); kind mul, cmul or mv."""
    if not xcorr:
        k = np.flip(k, axis=tuple(range(k.ndim - spatial, k.ndim)))
    kshape = k.shape[-spatial:]
    win = _windows(x, kshape, mode == "F")
    sp = tuple(range(-spatial, 0))
    if kind == "mul":
        out[...] = np.tensordot(win, k, axes=spatial)
    elif kind == "cmul":
        # plane by plane with the same kernel as "mul", so results match it bit for bit
        for i in range(x.shape[0]):
            out[i] = np.tensordot(win[i], k[i], axes=spatial)
    else:
        # win: planes_in, o.., k..; k: planes_out, planes_in, k..
        r = np.tensordot(win, k, axes=([0] + [win.ndim + a for a in sp], [1] + [k.ndim + a for a in sp]))
        out[...] = np.moveaxis(r, -1, 0)


# ---------------------------------------------------------------- sorting
def sort(out_v, out_i, x, axis, descending):
    """Stable sort of floating x along axis (0-based): values and 1-based indices."""
    if descending:
        key = np.negative(x, dtype=np.float64)
        key[np.isnan(key)] = -np.inf  # NaN first when descending, last when ascending
    else:
        key = x
    order = np.argsort(key, axis=axis, kind="stable")
    out_v[...] = np.take_along_axis(x, order, axis)
    np.add(order, 1, out=out_i, casting="unsafe")


def reduce_dim(op, out, x, axis, extra):
    """out := op of floating x along axis (kept with size 1), accumulated in float64."""
    with np.errstate(all="ignore"):
        if op == "sum":
            r = np.sum(x, axis=axis, dtype=np.float64, keepdims=True)
        elif op == "prod":
            r = np.prod(x, axis=axis, dtype=np.float64, keepdims=True)
        elif op == "mean":
            r = np.mean(x, axis=axis, dtype=np.float64, keepdims=True)
        elif op == "var" or op == "std":
            n = x.shape[axis]
            ddof = 0 if extra else (1 if n > 1 else 0)
            r = np.var(x, axis=axis, dtype=np.float64, ddof=ddof, keepdims=True)
            if op == "std":
                r = np.sqrt(r)
        elif op == "cumsum":
            r = np.cumsum(x, axis=axis, dtype=np.float64)
        elif op == "cumprod":
            r = np.cumprod(x, axis=axis, dtype=np.float64)
        else:
            raise ValueError(f"sparktorch7._ops.reduce_dim: unknown op {op!r}")
    out[...] = r


def extreme_dim(op, out_v, out_i, x, axis):
    """Max or min of floating x along axis with 1-based indices (first occurrence; NaN wins)."""
    with np.errstate(all="ignore"):
        idx = np.argmax(x, axis=axis) if op == "max" else np.argmin(x, axis=axis)
    idx = np.expand_dims(idx, axis)
    out_v[...] = np.take_along_axis(x, idx, axis)
    np.add(idx, 1, out=out_i, casting="unsafe")
