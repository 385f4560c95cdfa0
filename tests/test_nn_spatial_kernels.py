"""The numpy kernels of sparktorch7/_nn_ops.py against independent references.

The references are plain NumPy written from Torch7's formulas: here, and in numpy_ref.py
for convolutions, poolings, padding, resampling and pixel shuffle (test_numpy_ref.py
checks those against PyTorch where that is installed).
"""
import numpy as np
import pytest

import numpy_ref
from sparktorch7 import _nn_ops as ops

DTYPES = [np.float32, np.float64]
TOL = {np.float32: dict(rtol=1e-4, atol=1e-5), np.float64: dict(rtol=1e-10, atol=1e-12)}


def rnd(shape, dtype, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("batch", [True, False])
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("contiguous", [True, False])
def test_linear(dtype, batch, bias, contiguous):
    w, b = rnd((48, 96), dtype, 1), rnd((48,), dtype, 2)
    x = rnd((96, 64), dtype).T if not contiguous else rnd((64, 96), dtype)
    if not batch:
        x = x[3]
    assert x.flags.c_contiguous == contiguous
    # Torch7's formula in the layer's precision: the product, then the bias added
    want = np.matmul(x, w.T)
    if bias:
        want = want + b
    ref = x.astype(np.float64) @ w.astype(np.float64).T + (b if bias else 0)
    out = np.full(want.shape, np.nan, dtype)
    ops.linear(out, x, w, b if bias else None)
    assert out.dtype == dtype
    np.testing.assert_allclose(out, ref, **TOL[dtype])
    np.testing.assert_allclose(out, want, rtol=4 * np.finfo(dtype).eps, atol=0)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("th", [0.0, -0.0, 0.5, -1.25])
@pytest.mark.parametrize("n", [5, 4096, 3 * 4096 + 17])
@pytest.mark.parametrize("layout", ["contiguous", "strided", "inplace"])
def test_threshold_max(dtype, th, n, layout):
    specials = np.array([np.nan, -np.nan, -0.0, 0.0, np.inf, -np.inf, th, -th, 0.5], dtype)
    x = rnd((n,), dtype, 3)
    x[:: max(1, n // 40)][:len(specials)] = specials[:len(x[:: max(1, n // 40)])]
    if layout == "strided":
        x = np.repeat(x, 2)[::2]
    want = np.where(x > th, x, dtype(th))  # Torch7: x > th ? x : val, with val == th
    out = x if layout == "inplace" else np.full(x.shape, 7, dtype)
    ops.threshold_max(out, x, th)
    np.testing.assert_array_equal(out, want)
    np.testing.assert_array_equal(np.signbit(out), np.signbit(want))


def test_threshold_max_fallback_is_exact(monkeypatch):
    monkeypatch.setattr(ops, "_ROWS_OK", False)
    x = np.array([np.nan, -0.0, 0.0, -1.0, 2.0] * 2000, np.float32)
    out = np.empty_like(x)
    ops.threshold_max(out, x, 0.0)
    want = np.where(x > 0, x, np.float32(0))
    np.testing.assert_array_equal(out, want)
    np.testing.assert_array_equal(np.signbit(out), np.signbit(want))
    assert ops._rows_match_torch7()  # on this machine's numpy the fast path is taken


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("batch", [True, False])
@pytest.mark.parametrize("k,s,p,d,g", [
    ((3, 3), (1, 1), (1, 1), (1, 1), 1),
    ((5, 3), (2, 1), (0, 2), (1, 1), 1),
    ((3, 2), (2, 3), (1, 0), (2, 3), 1),
    ((1, 1), (1, 1), (0, 0), (1, 1), 1),
    ((3, 3), (1, 1), (1, 1), (1, 1), 2),
])
def test_conv2d(dtype, batch, k, s, p, d, g):
    x = rnd((3, 4, 11, 9), dtype)
    w = rnd((6, 4 // g, k[0], k[1]), dtype, 1)
    b = rnd((6,), dtype, 2)
    ref = numpy_ref.conv2d(x, w, b, stride=s, padding=p, dilation=d, groups=g)
    xi = x if batch else x[0]
    out = np.empty(ref.shape if batch else ref.shape[1:], dtype)
    ops.conv2d(out, xi, w, b, k[1], k[0], s[1], s[0], p[1], p[0], d[1], d[0], g)
    np.testing.assert_allclose(out, ref if batch else ref[0], **TOL[dtype])


def test_conv2d_noncontiguous_input_and_2d_weight():
    x = rnd((2, 9, 8, 3), np.float64).transpose(0, 3, 1, 2)  # strided view
    w = rnd((5, 3, 3, 3), np.float64, 1)
    ref = numpy_ref.conv2d(x, w, None, padding=1)
    out = np.empty(ref.shape)
    ops.conv2d(out, x, w.reshape(5, 27), None, 3, 3, 1, 1, 1, 1)
    np.testing.assert_allclose(out, ref, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("s,p,adj", [((1, 1), (0, 0), (0, 0)), ((2, 3), (1, 1), (1, 2))])
def test_full_conv2d(dtype, s, p, adj):
    x = rnd((2, 4, 5, 6), dtype)
    w = rnd((4, 3, 3, 4), dtype, 1)
    b = rnd((3,), dtype, 2)
    ref = numpy_ref.conv_transpose2d(x, w, b, stride=s, padding=p, output_padding=adj)
    out = np.empty(ref.shape, dtype)
    ops.full_conv2d(out, x, w, b, 4, 3, s[1], s[0], p[1], p[0])
    np.testing.assert_allclose(out, ref, **TOL[dtype])


@pytest.mark.parametrize("dtype", DTYPES)
def test_conv3d(dtype):
    x = rnd((2, 3, 5, 6, 7), dtype)
    w = rnd((4, 3, 2, 3, 3), dtype, 1)
    b = rnd((4,), dtype, 2)
    ref = numpy_ref.conv3d(x, w, b, stride=(1, 2, 1), padding=(1, 0, 1))
    out = np.empty(ref.shape, dtype)
    ops.conv3d(out, x, w, b, 2, 3, 3, 1, 1, 2, 1, 1, 0)
    np.testing.assert_allclose(out, ref, **TOL[dtype])


def test_temporal_conv():
    x = rnd((3, 10, 4), np.float64)
    w = rnd((5, 3 * 4), np.float64, 1)
    b = rnd((5,), np.float64, 2)
    out = np.empty((3, 4, 5))
    ops.temporal_conv(out, x, w, b, 3, 2)
    ref = np.stack([x[:, i * 2:i * 2 + 3].reshape(3, -1) @ w.T + b for i in range(4)], axis=1)
    np.testing.assert_allclose(out, ref, rtol=1e-12)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("k,s,p,d,ceil", [
    ((2, 2), (2, 2), (0, 0), (1, 1), False),
    ((3, 3), (2, 2), (1, 1), (1, 1), True),
    ((3, 2), (2, 1), (1, 0), (2, 1), False),
    ((3, 3), (2, 2), (0, 0), (1, 1), True),
])
def test_max_pool2d(dtype, k, s, p, d, ceil):
    x = rnd((2, 3, 10, 9), dtype)
    ref = numpy_ref.max_pool2d(x, k, s, p, d, ceil_mode=ceil)
    out = np.empty(ref.shape, dtype)
    ops.max_pool2d(out, x, k[1], k[0], s[1], s[0], p[1], p[0], d[1], d[0])
    np.testing.assert_array_equal(out, ref)


def test_max_pool_propagates_nan():
    x = np.zeros((1, 1, 4, 4))
    x[0, 0, 1, 1] = np.nan
    out = np.empty((1, 1, 2, 2))
    ops.max_pool2d(out, x, 2, 2, 2, 2, 0, 0)
    assert np.isnan(out[0, 0, 0, 0]) and not np.isnan(out[0, 0, 1, 1])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("k,s,p,ceil,inc", [
    ((2, 2), (2, 2), (0, 0), False, True),
    ((3, 3), (2, 2), (1, 1), True, True),
    ((3, 3), (2, 2), (1, 1), True, False),
    ((3, 2), (1, 2), (1, 1), False, False),
])
def test_avg_pool2d(dtype, k, s, p, ceil, inc):
    x = rnd((2, 3, 9, 8), dtype)
    ref = numpy_ref.avg_pool2d(x, k, s, p, ceil_mode=ceil, count_include_pad=inc)
    out = np.empty(ref.shape, dtype)
    ops.avg_pool2d(out, x, k[1], k[0], s[1], s[0], p[1], p[0], inc)
    np.testing.assert_allclose(out, ref, **TOL[dtype])


def test_pool3d():
    x = rnd((2, 2, 5, 6, 7), np.float64)
    ref = numpy_ref.max_pool3d(x, (2, 3, 3), (1, 2, 2), (1, 1, 1))
    out = np.empty(ref.shape)
    ops.max_pool3d(out, x, 2, 3, 3, 1, 2, 2, 1, 1, 1)
    np.testing.assert_array_equal(out, ref)
    ref = numpy_ref.avg_pool3d(x, (2, 3, 3), (1, 2, 2), (1, 1, 1), count_include_pad=False)
    ops.avg_pool3d(out, x, 2, 3, 3, 1, 2, 2, 1, 1, 1, False)
    np.testing.assert_allclose(out, ref, rtol=1e-12)


@pytest.mark.parametrize("mode,tf", [("max", numpy_ref.adaptive_max_pool2d),
                                     ("avg", numpy_ref.adaptive_avg_pool2d)])
@pytest.mark.parametrize("osize", [(3, 4), (7, 5), (1, 1)])
def test_adaptive_pool2d(mode, tf, osize):
    x = rnd((2, 3, 10, 7), np.float64)
    ref = tf(x, osize)
    out = np.empty(ref.shape)
    ops.adaptive_pool2d(out, x, mode)
    np.testing.assert_allclose(out, ref, rtol=1e-12)


def test_temporal_pool_and_subsampling():
    x = rnd((2, 9, 3), np.float64)
    out = np.empty((2, 3, 3))
    ops.temporal_max_pool(out, x, 3, 3)
    np.testing.assert_array_equal(out, x.reshape(2, 3, 3, 3).max(axis=2))
    w, b = rnd((3,), np.float64, 1), rnd((3,), np.float64, 2)
    out = np.empty((2, 4, 3))
    ops.temporal_subsampling(out, x, w, b, 3, 2)
    ref = np.stack([x[:, i * 2:i * 2 + 3].sum(axis=1) for i in range(4)], axis=1) * w + b
    np.testing.assert_allclose(out, ref, rtol=1e-12)


@pytest.mark.parametrize("dtype", DTYPES)
def test_batchnorm_eval_and_train(dtype):
    x = rnd((4, 3, 5, 5), dtype)
    w, b = rnd((3,), dtype, 1), rnd((3,), dtype, 2)
    rm, rv = rnd((3,), dtype, 3), np.abs(rnd((3,), dtype, 4)) + 0.5
    out = np.empty_like(x)
    ops.batchnorm(out, x, False, w, b, rm, rv, None, None, False, 0.1, 1e-5)
    ref = (x - rm[:, None, None]) / np.sqrt(rv[:, None, None] + 1e-5) * w[:, None, None] + b[:, None, None]
    np.testing.assert_allclose(out, ref, **TOL[dtype])
    rm2, rv2, sm, ss = rm.copy(), rv.copy(), np.empty(3, dtype), np.empty(3, dtype)
    ops.batchnorm(out, x, False, w, b, rm2, rv2, sm, ss, True, 0.1, 1e-5)
    mean, var = x.mean(axis=(0, 2, 3)), x.var(axis=(0, 2, 3))
    ref = (x - mean[:, None, None]) / np.sqrt(var[:, None, None] + 1e-5) * w[:, None, None] + b[:, None, None]
    np.testing.assert_allclose(out, ref, **TOL[dtype])
    np.testing.assert_allclose(rm2, 0.9 * rm + 0.1 * mean, **TOL[dtype])
    np.testing.assert_allclose(rv2, 0.9 * rv + 0.1 * x.var(axis=(0, 2, 3), ddof=1), **TOL[dtype])


@pytest.mark.parametrize("budget", [1, 1 << 23])
@pytest.mark.parametrize("size,before,after", [(5, 2, 2), (4, 1, 1), (4, 1, 2), (1, 0, 0)])
def test_cross_map_lrn(monkeypatch, budget, size, before, after):
    monkeypatch.setattr(ops, "_COLS_BUDGET", budget)  # one sample at a time, or all
    x = rnd((2, 7, 3, 4), np.float64)
    out = np.empty_like(x)
    ops.cross_map_lrn(out, x, size, 1e-2, 0.75, 2.0, before, after)
    ref = np.empty_like(x)
    for c in range(7):
        lo, hi = max(0, c - before), min(7, c + after + 1)
        ref[:, c] = x[:, c] * (2.0 + 1e-2 / size * (x[:, lo:hi] ** 2).sum(axis=1)) ** -0.75
    np.testing.assert_allclose(out, ref, rtol=1e-12)


def test_lrn_centred_window_for_odd_sizes():
    x = rnd((2, 7, 3, 4), np.float32)
    ref = numpy_ref.local_response_norm(x, 5, alpha=1e-2, beta=0.75, k=2.0)
    out = np.empty_like(x)
    ops.cross_map_lrn(out, x, 5, 1e-2, 0.75, 2.0, 2, 2)
    np.testing.assert_allclose(out, ref, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("log", [False, True])
def test_softmax(log):
    x = rnd((2, 4, 3, 3), np.float64) * 10
    out = np.empty_like(x)
    ops.softmax(out, x, 1, log)
    e = np.exp(x - x.max(axis=1, keepdims=True))
    ref = e / e.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(out, np.log(ref) if log else ref, rtol=1e-12, atol=1e-14)
    ops.softmax_flat(out, x, False, log)
    e = np.exp(x - x.max(axis=(1, 2, 3), keepdims=True))
    ref = e / e.sum(axis=(1, 2, 3), keepdims=True)
    np.testing.assert_allclose(out, np.log(ref) if log else ref, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("mode,npmode", [("zero", "constant"), ("reflect", "reflect"), ("edge", "edge")])
@pytest.mark.parametrize("pads", [(1, 2, 3, 0), (2, -1, 0, -2)])
def test_pad2d(mode, npmode, pads):
    x = rnd((2, 3, 5, 6), np.float64)
    l, r, tp, b = pads
    ref = numpy_ref.pad2d(x, l, r, tp, b, npmode)
    out = np.empty(ref.shape)
    ops.pad2d(out, x, l, r, tp, b, mode)
    np.testing.assert_array_equal(out, ref)


def test_upsampling():
    x = rnd((2, 3, 4, 5), np.float32)
    out = np.empty((2, 3, 12, 15), np.float32)
    ops.upsample_nearest(out, x, 3)
    np.testing.assert_array_equal(out, x.repeat(3, axis=2).repeat(3, axis=3))
    out = np.empty((2, 3, 10, 13), np.float32)
    ops.upsample_bilinear(out, x)
    ref = numpy_ref.upsample_bilinear(x, (10, 13), coord_dtype=np.float32)
    np.testing.assert_allclose(out, ref, rtol=1e-5, atol=1e-6)


def test_pixel_shuffle():
    x = rnd((2, 8, 3, 4), np.float64)
    out = np.empty((2, 2, 6, 8))
    ops.pixel_shuffle(out, x, 2)
    np.testing.assert_array_equal(out, numpy_ref.pixel_shuffle(x, 2))
    out1 = np.empty((2, 6, 8))
    ops.pixel_shuffle(out1, x[1], 2)
    np.testing.assert_array_equal(out1, out[1])


def _local_reference(x, k):
    """Torch7's construction, literally: zero padding, a one-to-one convolution per
    plane with the normalised kernel, the sum over planes, and the same on ones."""
    c, h, w = x.shape
    kh, kw = k.shape
    kn = k / (k.sum() * c)
    xp = np.pad(x, ((0, 0), (kh // 2, kh // 2), (kw // 2, kw // 2)))
    conv = np.zeros((c, h, w))
    for i in range(kh):
        for j in range(kw):
            conv += kn[i, j] * xp[:, i:i + h, j:j + w]
    return conv.sum(axis=0)


@pytest.mark.parametrize("kernel", [np.ones((5, 3)), np.array([1.0, 2.0, 1.0])])
def test_local_normalize(kernel):
    x = rnd((3, 7, 8), np.float64)
    k2 = np.outer(kernel, kernel) if kernel.ndim == 1 else kernel
    coef = _local_reference(np.ones_like(x), k2)
    out = np.empty_like(x)
    ops.local_normalize(out, x, kernel, "subtractive")
    np.testing.assert_allclose(out, x - _local_reference(x, k2) / coef, rtol=1e-10, atol=1e-12)
    ops.local_normalize(out, x, kernel, "divisive", 1e-4, 1e-4)
    std = np.sqrt(_local_reference(x ** 2, k2)) / coef
    std = np.where(std > 1e-4, std, 1e-4)
    np.testing.assert_allclose(out, x / std, rtol=1e-10)


@pytest.mark.parametrize("budget", [1, 2 * 4 * 9 * 25, 3 * 4 * 9 * 25])
def test_convolutions_in_chunks(monkeypatch, budget):
    """Batches split into chunks of 1, 2 (with a remainder) and 3 samples."""
    monkeypatch.setattr(ops, "_COLS_BUDGET", budget)
    x = rnd((5, 4, 5, 5), np.float64)
    w = rnd((6, 4, 3, 3), np.float64, 1)
    b = rnd((6,), np.float64, 2)
    ref = numpy_ref.conv2d(x, w, b, padding=1)
    out = np.empty(ref.shape)
    ops.conv2d(out, x, w, b, 3, 3, 1, 1, 1, 1)
    np.testing.assert_allclose(out, ref, rtol=1e-10, atol=1e-12)
    wt = rnd((4, 6, 3, 3), np.float64, 3)
    ref = numpy_ref.conv_transpose2d(x, wt, b, stride=2, padding=1)
    out = np.empty(ref.shape)
    ops.full_conv2d(out, x, wt, b, 3, 3, 2, 2, 1, 1)
    np.testing.assert_allclose(out, ref, rtol=1e-10, atol=1e-12)


def test_full_conv3d_and_dilated_conv3d():
    x = rnd((2, 3, 3, 4, 5), np.float64)
    w = rnd((3, 2, 2, 3, 3), np.float64, 1)
    b = rnd((2,), np.float64, 2)
    ref = numpy_ref.conv_transpose3d(x, w, b, stride=(1, 2, 2), padding=(0, 1, 1),
                                     output_padding=(0, 1, 0))
    out = np.empty(ref.shape)
    ops.full_conv3d(out, x, w, b, 2, 3, 3, 1, 2, 2, 0, 1, 1)
    np.testing.assert_allclose(out, ref, rtol=1e-10, atol=1e-12)
    x = rnd((2, 3, 6, 7, 8), np.float64)
    w = rnd((4, 3, 2, 3, 2), np.float64, 1)
    ref = numpy_ref.conv3d(x, w, b[:1].repeat(4), padding=(1, 1, 0), dilation=(2, 1, 3))
    out = np.empty(ref.shape)
    ops.conv3d(out, x, w, b[:1].repeat(4), 2, 2, 3, 1, 1, 1, 1, 0, 1, 1, 2, 3, 1)
    np.testing.assert_allclose(out, ref, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("k,s,p,d", [((2, 2), (2, 2), (0, 0), (1, 1)), ((3, 3), (2, 1), (1, 1), (1, 2))])
def test_max_pool_indices(k, s, p, d):
    x = rnd((2, 3, 9, 10), np.float64)
    ref, ind = numpy_ref.max_pool2d(x, k, s, p, d, return_indices=True)
    out = np.empty(ref.shape)
    idx = np.empty(ref.shape, np.int64)
    ops.max_pool2d(out, x, k[1], k[0], s[1], s[0], p[1], p[0], d[1], d[0], idx)
    np.testing.assert_array_equal(out, ref)
    np.testing.assert_array_equal(idx, ind + 1)  # Torch7 indices are 1-based


def test_max_unpool():
    x = rnd((2, 3, 8, 6), np.float64)
    pooled, ind = numpy_ref.max_pool2d(x, 2, 2, return_indices=True)
    ref = numpy_ref.max_unpool2d(pooled, ind, (8, 6))
    out = np.empty(ref.shape)
    ops.max_unpool2d(out, pooled, ind + 1)
    np.testing.assert_array_equal(out, ref)
    with pytest.raises(IndexError, match="invalid max index 48"):
        ops.max_unpool2d(out, pooled, np.full(ind.shape, 49))


def test_upsample_bilinear_matches_thnn_loop():
    """Per output pixel, as THNN writes it: float32 source coordinates, lambdas in the
    tensor's type (here double)."""
    x = rnd((2, 5, 7), np.float64)
    h2, w2 = 13, 9
    out = np.empty((2, h2, w2))
    ops.upsample_bilinear(out, x)
    ref = np.empty_like(out)
    rh = np.float32(5 - 1) / np.float32(h2 - 1)
    rw = np.float32(7 - 1) / np.float32(w2 - 1)
    for i in range(h2):
        h1r = np.float32(rh * np.float32(i))
        h1 = int(h1r)
        hp = 1 if h1 < 4 else 0
        l1 = float(h1r) - h1
        for j in range(w2):
            w1r = np.float32(rw * np.float32(j))
            w1 = int(w1r)
            wp = 1 if w1 < 6 else 0
            m1 = float(w1r) - w1
            ref[:, i, j] = (1 - l1) * ((1 - m1) * x[:, h1, w1] + m1 * x[:, h1, w1 + wp]) \
                + l1 * ((1 - m1) * x[:, h1 + hp, w1] + m1 * x[:, h1 + hp, w1 + wp])
    np.testing.assert_allclose(out, ref, rtol=1e-14, atol=1e-14)


@pytest.mark.parametrize("budget", [1, 4 * 9 * 3 * 2])
def test_convolutions_in_row_bands(monkeypatch, budget):
    """Images whose windows exceed the budget go by bands of output rows (1 and 3)."""
    monkeypatch.setattr(ops, "_COLS_BUDGET", budget)
    x = rnd((2, 4, 9, 8), np.float64)
    w = rnd((6, 2, 3, 3), np.float64, 1)
    b = rnd((6,), np.float64, 2)
    ref = numpy_ref.conv2d(x, w, b, stride=(2, 1), padding=(2, 1), dilation=(2, 1), groups=2)
    out = np.empty(ref.shape)
    ops.conv2d(out, x, w, b, 3, 3, 1, 2, 1, 2, 1, 2, 2)
    np.testing.assert_allclose(out, ref, rtol=1e-10, atol=1e-12)
    v = rnd((2, 3, 5, 6, 4), np.float64)
    w3 = rnd((4, 3, 2, 3, 2), np.float64, 3)
    ref = numpy_ref.conv3d(v, w3, b[:4], stride=(2, 1, 1), padding=(1, 1, 0))
    out = np.empty(ref.shape)
    ops.conv3d(out, v, w3, b[:4], 2, 2, 3, 2, 1, 1, 1, 0, 1)
    np.testing.assert_allclose(out, ref, rtol=1e-10, atol=1e-12)
