"""NumPy kernels of the Lua TensorMath, called as ``torch._np.call(name, ...)``.

Every function receives ndarray views of the Lua tensors (no copies) and plain numbers,
and writes its result into the ``out`` views it is given; nothing is returned unless
stated. Shapes and types were checked on the Lua side.
"""
from __future__ import annotations

import numpy as np

__all__: list[str] = []


def _combine(out: np.ndarray, beta, m: np.ndarray, prod: np.ndarray) -> None:
    """out := beta*m + prod (m may be out itself)."""
    if beta == 0:
        out[...] = prod
        return
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
