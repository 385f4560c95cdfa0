"""Less common nn modules found in saved models: distances to centres, sparse
and weight-normalised linear layers, gating, masks and penalties."""
import numpy as np
import pytest

import sparktorch7 as st

from test_nn_modules import DTYPES, forward, rng, tol


@pytest.fixture
def nnlua():
    state = st.LuaState()
    state.execute("require 'nn'")
    yield state
    state.close()


def c(a, dtype):
    return a.astype(dtype).astype(np.float64)


@pytest.mark.parametrize("dtype", DTYPES)
def test_euclidean_weighted_euclidean_cosine(nnlua, dtype):
    r = rng(20)
    x, W, C = r.standard_normal((4, 5)), r.standard_normal((5, 3)), r.uniform(0.5, 2, (5, 3))
    cx, cW, cC = c(x, dtype), c(W, dtype), c(C, dtype)
    ref = np.sqrt(((cW[None] - cx[:, :, None]) ** 2).sum(1))
    np.testing.assert_allclose(forward(nnlua, "nn.Euclidean(5, 3)", x, dtype, {"weight": W}), ref, **tol(dtype))
    np.testing.assert_allclose(forward(nnlua, "nn.Euclidean(5, 3)", x[0], dtype, {"weight": W}), ref[0], **tol(dtype))
    ref = np.sqrt(((cC[None] * (cW[None] - cx[:, :, None])) ** 2).sum(1))
    out = forward(nnlua, "nn.WeightedEuclidean(5, 3)", x, dtype, {"weight": W, "diagCov": C})
    np.testing.assert_allclose(out, ref, **tol(dtype))
    V = r.standard_normal((3, 5))
    cV = c(V, dtype)
    ref = (cx @ cV.T) / ((np.linalg.norm(cV, axis=1) + 1e-12)[None] * (np.linalg.norm(cx, axis=1) + 1e-12)[:, None])
    np.testing.assert_allclose(forward(nnlua, "nn.Cosine(5, 3)", x, dtype, {"weight": V}), ref, **tol(dtype))
    np.testing.assert_allclose(forward(nnlua, "nn.Cosine(5, 3)", x[1], dtype, {"weight": V}), ref[1], **tol(dtype))


@pytest.mark.parametrize("dtype", DTYPES)
def test_sparse_linear(nnlua, dtype):
    r = rng(21)
    W, b = r.standard_normal((3, 10)), r.standard_normal(3)
    s1 = np.array([[1, 0.5], [4, -2.0], [10, 1.5]])
    s2 = np.array([[2, 1.0], [4, 3.0], [7, -1.0]])
    dense = np.zeros((2, 10))
    for row, s in enumerate((s1, s2)):
        for i, v in s:
            dense[row, int(i) - 1] = v
    ref = c(dense, dtype) @ c(W, dtype).T + c(b, dtype)
    fields = {"weight": W, "bias": b}
    np.testing.assert_allclose(forward(nnlua, "nn.SparseLinear(10, 3)", s1, dtype, fields), ref[0], **tol(dtype))
    np.testing.assert_allclose(forward(nnlua, "nn.SparseLinear(10, 3)", np.stack([s1, s2]), dtype, fields),
                               ref, **tol(dtype))
    np.testing.assert_allclose(forward(nnlua, "nn.SparseLinear(10, 3)", [s1, s2], dtype, fields), ref, **tol(dtype))


@pytest.mark.parametrize("dtype", DTYPES)
def test_linear_weight_norm(nnlua, dtype):
    r = rng(22)
    v, g, b = r.standard_normal((3, 4)), r.uniform(0.5, 2, (3, 1)), r.standard_normal(3)
    x = r.standard_normal((5, 4))
    Wn = c(g, dtype) * c(v, dtype) / np.linalg.norm(c(v, dtype), axis=1, keepdims=True)
    out = forward(nnlua, "nn.LinearWeightNorm(4, 3)", x, dtype, {"v": v, "g": g, "bias": b})
    np.testing.assert_allclose(out, c(x, dtype) @ Wn.T + c(b, dtype), **tol(dtype))
    assert nnlua.eval("tostring(nn.LinearWeightNorm(4, 3))") == "nn.LinearWeightNorm(4 -> 3)"


@pytest.mark.parametrize("dtype", DTYPES)
def test_gating_masks_and_identities(nnlua, dtype):
    r = rng(23)
    x = r.standard_normal((3, 8))
    cx = c(x, dtype)
    np.testing.assert_allclose(forward(nnlua, "nn.GatedLinearUnit()", x, dtype),
                               cx[:, :4] / (1 + np.exp(-cx[:, 4:])), **tol(dtype))
    np.testing.assert_allclose(forward(nnlua, "nn.GatedLinearUnit(1)", x[:2], dtype),
                               cx[:1] / (1 + np.exp(-cx[1:2])), **tol(dtype))
    mask = (x > 0).astype(np.uint8)
    np.testing.assert_allclose(forward(nnlua, "nn.MaskedSelect()", [x, mask], dtype), cx[x > 0], **tol(dtype))
    np.testing.assert_allclose(forward(nnlua, "nn.L1Penalty(0.1)", x, dtype), cx, **tol(dtype))
    np.testing.assert_allclose(forward(nnlua, "nn.ZeroGrad()", x, dtype), cx, **tol(dtype))
    np.testing.assert_allclose(forward(nnlua, "nn.CReLU(1)", x, dtype),
                               np.concatenate([np.maximum(cx, 0), np.maximum(-cx, 0)], 1), **tol(dtype))
    img = r.standard_normal((2, 3, 4))
    np.testing.assert_allclose(forward(nnlua, "nn.CReLU(3)", img, dtype),
                               np.concatenate([np.maximum(c(img, dtype), 0), np.maximum(-c(img, dtype), 0)], 0),
                               **tol(dtype))


def test_l1_penalty_loss(nnlua):
    loss = nnlua.eval("""function(x) local m = nn.L1Penalty(0.5, true); m:forward(x); return m.loss end""")(
        np.array([1.0, -3.0, 2.0, 0.0]))
    assert loss == pytest.approx(0.5 * 6 / 4)


@pytest.mark.parametrize("dtype", DTYPES)
def test_mixture_table(nnlua, dtype):
    r = rng(24)
    gater = r.uniform(0, 1, (4, 3))
    experts = [r.standard_normal((4, 5)) for _ in range(3)]
    cg = c(gater, dtype)
    ref = sum(cg[:, i:i + 1] * c(experts[i], dtype) for i in range(3))
    np.testing.assert_allclose(forward(nnlua, "nn.MixtureTable()", [gater, experts], dtype), ref, **tol(dtype))
    stacked = np.stack(experts, 1)
    np.testing.assert_allclose(forward(nnlua, "nn.MixtureTable()", [gater, stacked], dtype), ref, **tol(dtype))
    single = forward(nnlua, "nn.MixtureTable()", [gater[0], [e[0] for e in experts]], dtype)
    np.testing.assert_allclose(single, ref[0], **tol(dtype))


def test_one_hot(nnlua):
    out = forward(nnlua, "nn.OneHot(4)", np.array([[1, 4], [2, 2]], dtype=np.int64), np.float64)
    assert out.shape == (2, 2, 4)
    np.testing.assert_array_equal(out.argmax(2), [[0, 3], [1, 1]])
    assert out.sum() == 4
