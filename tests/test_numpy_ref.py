"""tests/numpy_ref.py, the reference of the spatial tests, checked on its own.

Without PyTorch: against literal per-output-pixel loops of the definitions and against
identities (a transposed convolution is the adjoint of a convolution). With PyTorch (a
benchmark peer, requirements-bench.txt): against torch.nn.functional on the cases the
spatial tests use, and a few more.
"""
import itertools

import numpy as np
import pytest

import numpy_ref as ref

try:
    import torch
    import torch.nn.functional as F
except ImportError:
    torch = F = None
needs_torch = pytest.mark.skipif(torch is None,
                                 reason="PyTorch (only a cross-check of the reference) is not installed")


def rnd(shape, seed=0, dtype=np.float64):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


# --- without PyTorch --------------------------------------------------------------------

def test_conv2d_against_pixel_loop():
    x, w, b = rnd((2, 4, 7, 6)), rnd((6, 2, 3, 2), 1), rnd(6, 2)
    s, p, d, g = (2, 1), (1, 2), (2, 1), 2
    out = ref.conv2d(x, w, b, stride=s, padding=p, dilation=d, groups=g)
    xp = np.pad(x, ((0, 0), (0, 0), (p[0], p[0]), (p[1], p[1])))
    expect = np.zeros_like(out)
    for n, o, i, j in itertools.product(*(range(v) for v in out.shape)):
        grp = o // 3
        for c, u, v in itertools.product(range(2), range(3), range(2)):
            expect[n, o, i, j] += w[o, c, u, v] * xp[n, grp * 2 + c, i * s[0] + u * d[0], j * s[1] + v * d[1]]
        expect[n, o, i, j] += b[o]
    assert out.shape == (2, 6, 3, 9)
    np.testing.assert_allclose(out, expect, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("nd", [2, 3])
@pytest.mark.parametrize("groups", [1, 2])
def test_conv_transpose_is_the_adjoint(nd, groups):
    """<conv(y), x> = <y, conv_transpose(x)> for every y of the transposed output's shape."""
    conv, convt = (ref.conv2d, ref.conv_transpose2d) if nd == 2 else (ref.conv3d, ref.conv_transpose3d)
    s, p, d, op = (2, 3, 1)[-nd:], (1, 0, 1)[-nd:], (1, 2, 1)[-nd:], (1, 2, 0)[-nd:]
    x = rnd((2, 4) + (4, 3, 5)[-nd:])
    w = rnd((4, 3) + (3, 2, 2)[-nd:], 1)       # nIn x nOut/groups x k...
    y_shape = convt(x, w, None, s, p, op, groups, d).shape
    y = rnd(y_shape, 2)
    # the same weight array, read as a convolution from nOut to nIn planes
    cy = conv(y, w, None, s, p, d, groups)
    assert cy.shape == x.shape
    np.testing.assert_allclose((cy * x).sum(), (y * convt(x, w, None, s, p, op, groups, d)).sum(), rtol=1e-12)


@pytest.mark.parametrize("k,s,p,d,ceil", [
    ((3, 3), (2, 2), (1, 1), (1, 1), True), ((2, 3), (2, 1), (0, 1), (3, 2), False),
    ((3, 3), (2, 2), (0, 0), (1, 1), True), ((2, 2), (2, 2), (1, 1), (1, 1), True)])
def test_max_pool2d_against_pixel_loop(k, s, p, d, ceil):
    x = rnd((1, 2, 10, 9))
    out, ind = ref.max_pool2d(x, k, s, p, d, ceil, return_indices=True)
    oh, ow = (ref.pool_output_size(x.shape[2 + a], k[a], s[a], p[a], d[a], ceil) for a in range(2))
    assert out.shape == (1, 2, oh, ow)
    for c, i, j in itertools.product(range(2), range(oh), range(ow)):
        rows = [i * s[0] - p[0] + u * d[0] for u in range(k[0])]
        cols = [j * s[1] - p[1] + v * d[1] for v in range(k[1])]
        cells = [(r, q) for r in rows for q in cols if 0 <= r < 10 and 0 <= q < 9]
        r, q = max(cells, key=lambda rc: x[0, c, rc[0], rc[1]])
        assert out[0, c, i, j] == x[0, c, r, q] and ind[0, c, i, j] == r * 9 + q


def test_pool_output_size_ceil_rule():
    assert ref.pool_output_size(5, 2, 2, 1, ceil_mode=True) == 3   # a 4th would start in the right padding
    assert ref.pool_output_size(5, 2, 2, 0, ceil_mode=True) == 3
    assert ref.pool_output_size(5, 2, 2, 0) == 2
    assert ref.pool_output_size(10, 3, 2, 1, ceil_mode=True) == 6


@pytest.mark.parametrize("inc", [True, False])
def test_avg_pool2d_divisor(inc):
    """Ones in, so the output is (covered input cells) / divisor."""
    out = ref.avg_pool2d(np.ones((1, 1, 5, 5)), 3, 2, 1, ceil_mode=True, count_include_pad=inc)
    assert out.shape == (1, 1, 3, 3)
    # windows start at -1, 1, 3; clipped at 6 (input + padding): sizes 3, 3, 3; input cells 2, 3, 2
    cover = np.array([2.0, 3.0, 2.0])
    expect = np.outer(cover, cover) / (9 if inc else np.outer(cover, cover))
    np.testing.assert_allclose(out[0, 0], expect, rtol=1e-15)
    # a ceil_mode window past the padded border: 4 rows, windows start at 0, 2 (the last one
    # has 2 cells inside the input and none in padding): divisor 2 either way
    out = ref.avg_pool2d(np.ones((1, 1, 4, 4)), 3, 2, 0, ceil_mode=True, count_include_pad=inc)
    np.testing.assert_allclose(out[0, 0], np.ones((2, 2)), rtol=1e-15)


def test_adaptive_bounds():
    x = np.arange(10.0).reshape(1, 1, 1, 10)
    # out 4 of 10: [0, 3), [2, 5), [5, 8), [7, 10)
    np.testing.assert_array_equal(ref.adaptive_max_pool2d(x, (1, 4))[0, 0, 0], [2, 4, 7, 9])
    np.testing.assert_allclose(ref.adaptive_avg_pool2d(x, (1, 4))[0, 0, 0], [1, 3, 6, 8])


def test_bilinear_corners_and_midpoints():
    x = rnd((1, 2, 3, 4))
    out = ref.upsample_bilinear(x, (5, 7))
    np.testing.assert_allclose(out[..., ::2, ::2], x, rtol=1e-14)
    np.testing.assert_allclose(out[..., 1, ::2], (x[..., 0, :] + x[..., 1, :]) / 2, rtol=1e-14)
    np.testing.assert_allclose(ref.upsample_bilinear(x, (3, 4)), x, rtol=1e-15)
    np.testing.assert_allclose(ref.upsample_bilinear(x, (1, 1)), x[..., :1, :1], rtol=1e-15)


def test_pixel_shuffle_and_unpool_by_index():
    x = rnd((2, 8, 3, 4))
    out = ref.pixel_shuffle(x, 2)
    assert out.shape == (2, 2, 6, 8)
    assert out[1, 1, 3, 5] == x[1, 4 + 2 * 1 + 1, 1, 2]
    pooled, ind = ref.max_pool2d(x, 2, return_indices=True)
    up = ref.max_unpool2d(pooled, ind, (3, 4))
    assert (up != 0).sum() == pooled.size
    np.testing.assert_array_equal(np.take_along_axis(up.reshape(2, 8, 12), ind.reshape(2, 8, -1), axis=2),
                                  pooled.reshape(2, 8, -1))
    np.testing.assert_array_equal(ind[0, 0], [[np.argmax(x[0, 0, :2, 2 * j:2 * j + 2]) // 2 * 4
                                               + np.argmax(x[0, 0, :2, 2 * j:2 * j + 2]) % 2 + 2 * j
                                               for j in range(2)]])


def test_one_sample_and_dtype():
    x = rnd((3, 6, 5), dtype=np.float32)
    w = rnd((2, 3, 3, 3), 1)
    out = ref.conv2d(x, w, padding=1)
    assert out.dtype == np.float32 and out.shape == (2, 6, 5)
    np.testing.assert_allclose(out, ref.conv2d(x[None], w, padding=1)[0], rtol=1e-7)


# --- against PyTorch --------------------------------------------------------------------

def t(a):
    return torch.from_numpy(np.ascontiguousarray(a))


CONV2D = [  # (x shape, w shape, kwargs); the spatial tests' cases and a few more
    ((3, 4, 11, 9), (6, 4, 3, 3), {}),
    ((3, 4, 11, 9), (6, 4, 3, 3), dict(padding=1)),
    ((3, 4, 11, 9), (6, 4, 3, 5), dict(stride=(1, 2), padding=(2, 0))),
    ((2, 3, 12, 13), (4, 3, 2, 3), dict(stride=(1, 2), padding=(2, 1), dilation=(3, 2))),
    ((3, 4, 11, 9), (6, 4, 5, 3), dict(stride=(2, 1), padding=(0, 2))),
    ((3, 4, 11, 9), (6, 4, 3, 2), dict(stride=(2, 3), padding=(1, 0), dilation=(2, 3))),
    ((3, 4, 11, 9), (6, 2, 3, 3), dict(padding=1, groups=2)),
    ((2, 4, 8, 9), (6, 2, 3, 3), dict(padding=2, dilation=2, groups=2)),
    ((2, 4, 9, 8), (6, 2, 3, 3), dict(stride=(2, 1), padding=(2, 1), dilation=(2, 1), groups=2)),
    ((2, 6, 7, 7), (6, 1, 3, 3), dict(stride=2, padding=1, groups=6)),
]


@needs_torch
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("xs,ws,kw", CONV2D)
def test_conv2d_matches_torch(xs, ws, kw, bias):
    x, w, b = rnd(xs), rnd(ws, 1), rnd(ws[0], 2) if bias else None
    expect = F.conv2d(t(x), t(w), None if b is None else t(b), **kw).numpy()
    np.testing.assert_allclose(ref.conv2d(x, w, b, **kw), expect, rtol=1e-10, atol=1e-12)


CONV_T2D = [
    ((2, 4, 5, 6), (4, 3, 3, 3), {}),
    ((2, 4, 5, 6), (4, 3, 3, 4), dict(stride=(2, 3), padding=(1, 1), output_padding=(1, 2))),
    ((2, 3, 4, 5), (3, 2, 3, 3), dict(stride=2, padding=1, output_padding=1)),
    ((5, 4, 5, 5), (4, 6, 3, 3), dict(stride=2, padding=1)),
    ((2, 4, 5, 6), (4, 2, 3, 2), dict(stride=(2, 1), padding=(1, 0), dilation=(2, 3), groups=2)),
]


@needs_torch
@pytest.mark.parametrize("xs,ws,kw", CONV_T2D)
def test_conv_transpose2d_matches_torch(xs, ws, kw):
    x, w, b = rnd(xs), rnd(ws, 1), rnd(ws[1] * kw.get("groups", 1), 2)
    expect = F.conv_transpose2d(t(x), t(w), t(b), **kw).numpy()
    np.testing.assert_allclose(ref.conv_transpose2d(x, w, b, **kw), expect, rtol=1e-10, atol=1e-12)


CONV3D = [
    ((2, 3, 5, 6, 7), (4, 3, 2, 3, 3), dict(stride=(1, 1, 2), padding=(1, 1, 0))),
    ((2, 3, 5, 6, 7), (4, 3, 2, 3, 3), dict(stride=(1, 2, 1), padding=(1, 0, 1))),
    ((2, 2, 4, 5, 6), (3, 2, 3, 3, 3), dict(padding=1)),
    ((2, 3, 6, 7, 8), (4, 3, 2, 2, 3), dict(padding=(1, 1, 0), dilation=(2, 1, 3))),
    ((2, 3, 5, 6, 4), (4, 3, 2, 3, 2), dict(stride=(2, 1, 1), padding=(1, 1, 0))),
]


@needs_torch
@pytest.mark.parametrize("xs,ws,kw", CONV3D)
def test_conv3d_matches_torch(xs, ws, kw):
    x, w, b = rnd(xs), rnd(ws, 1), rnd(ws[0], 2)
    expect = F.conv3d(t(x), t(w), t(b), **kw).numpy()
    np.testing.assert_allclose(ref.conv3d(x, w, b, **kw), expect, rtol=1e-10, atol=1e-12)


@needs_torch
@pytest.mark.parametrize("xs,ws,kw", [
    ((2, 3, 3, 4, 5), (3, 2, 2, 3, 3), dict(stride=(1, 2, 2), padding=(0, 1, 1), output_padding=(0, 0, 1))),
    ((2, 3, 3, 4, 5), (3, 2, 2, 3, 3), dict(stride=(1, 2, 2), padding=(0, 1, 1), output_padding=(0, 1, 0))),
    ((2, 3, 4, 5, 6), (3, 2, 2, 2, 2), dict(stride=2)),
])
def test_conv_transpose3d_matches_torch(xs, ws, kw):
    x, w, b = rnd(xs), rnd(ws, 1), rnd(ws[1], 2)
    expect = F.conv_transpose3d(t(x), t(w), t(b), **kw).numpy()
    np.testing.assert_allclose(ref.conv_transpose3d(x, w, b, **kw), expect, rtol=1e-10, atol=1e-12)


MAX_POOL2D = [  # (x shape, k, s, p, d, ceil)
    ((2, 3, 10, 9), (2, 2), (2, 2), (0, 0), (1, 1), False),
    ((2, 3, 10, 9), (3, 3), (2, 2), (1, 1), (1, 1), True),
    ((2, 3, 10, 9), (2, 3), (2, 1), (0, 1), (1, 1), False),
    ((2, 3, 10, 9), (3, 3), (2, 2), (0, 0), (1, 1), True),
    ((2, 3, 10, 9), (3, 2), (2, 1), (1, 0), (2, 1), False),
    ((2, 3, 12, 11), (2, 3), (2, 1), (0, 1), (3, 2), False),
    ((2, 3, 9, 10), (3, 3), (2, 1), (1, 1), (1, 2), False),
    ((1, 1, 5, 5), (2, 2), (2, 2), (1, 1), (1, 1), True),
    ((2, 3, 11, 8), (3, 2), (2, 3), (1, 1), (2, 1), True),
]


@needs_torch
@pytest.mark.parametrize("xs,k,s,p,d,ceil", MAX_POOL2D)
def test_max_pool2d_matches_torch(xs, k, s, p, d, ceil):
    x = rnd(xs)
    expect, ind = F.max_pool2d(t(x), k, s, p, d, ceil_mode=ceil, return_indices=True)
    out, mine = ref.max_pool2d(x, k, s, p, d, ceil, return_indices=True)
    np.testing.assert_array_equal(out, expect.numpy())
    np.testing.assert_array_equal(mine, ind.numpy())
    if d == (1, 1) and not ceil:   # PyTorch's unpooling knows no dilation
        np.testing.assert_array_equal(ref.max_unpool2d(out, mine, xs[2:]),
                                      F.max_unpool2d(expect, ind, k, s, p, output_size=xs[2:]).numpy())


AVG_POOL2D = [  # (x shape, k, s, p, ceil, count_include_pad)
    ((2, 3, 9, 8), (2, 2), (2, 2), (0, 0), False, True),
    ((2, 3, 9, 8), (3, 3), (2, 2), (1, 1), True, True),
    ((2, 3, 9, 8), (3, 3), (2, 2), (1, 1), True, False),
    ((2, 3, 9, 8), (3, 2), (1, 2), (1, 1), False, False),
    ((2, 3, 9, 9), (3, 3), (2, 2), (1, 1), False, True),
    ((2, 3, 8, 7), (3, 3), (2, 2), (0, 0), True, True),
    ((2, 3, 10, 7), (4, 3), (3, 2), (2, 1), True, True),
    ((2, 3, 10, 7), (4, 3), (3, 2), (2, 1), True, False),
]


@needs_torch
@pytest.mark.parametrize("xs,k,s,p,ceil,inc", AVG_POOL2D)
def test_avg_pool2d_matches_torch(xs, k, s, p, ceil, inc):
    x = rnd(xs)
    expect = F.avg_pool2d(t(x), k, s, p, ceil_mode=ceil, count_include_pad=inc).numpy()
    np.testing.assert_allclose(ref.avg_pool2d(x, k, s, p, ceil, inc), expect, rtol=1e-12)


@needs_torch
@pytest.mark.parametrize("osize", [(3, 4), (7, 5), (1, 1), (10, 7), (4, 3)])
def test_adaptive_pool2d_matches_torch(osize):
    x = rnd((2, 3, 10, 7))
    np.testing.assert_array_equal(ref.adaptive_max_pool2d(x, osize),
                                  F.adaptive_max_pool2d(t(x), osize).numpy())
    np.testing.assert_allclose(ref.adaptive_avg_pool2d(x, osize), F.adaptive_avg_pool2d(t(x), osize).numpy(),
                               rtol=1e-12)


@needs_torch
@pytest.mark.parametrize("xs,k,s,p,ceil,inc", [
    ((2, 2, 5, 6, 7), (2, 3, 3), (1, 2, 2), (1, 1, 1), False, True),
    ((2, 2, 5, 6, 7), (2, 3, 3), (1, 2, 2), (1, 1, 1), False, False),
    ((2, 2, 5, 6, 7), 2, 2, 0, True, True),
    ((2, 2, 5, 6, 7), (2, 3, 3), (1, 2, 2), 0, False, True),
    ((2, 3, 4, 6, 6), 2, 2, 0, False, True),
    ((2, 2, 5, 7, 6), (3, 3, 2), (2, 2, 2), (1, 1, 1), True, False),
])
def test_pool3d_matches_torch(xs, k, s, p, ceil, inc):
    x = rnd(xs)
    np.testing.assert_array_equal(ref.max_pool3d(x, k, s, p, ceil_mode=ceil),
                                  F.max_pool3d(t(x), k, s, p, ceil_mode=ceil).numpy())
    np.testing.assert_allclose(ref.avg_pool3d(x, k, s, p, ceil, inc),
                               F.avg_pool3d(t(x), k, s, p, ceil, inc).numpy(), rtol=1e-12)


@needs_torch
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("xs,size", [((2, 3, 4, 5), (10, 13)), ((2, 3, 4, 5), (7, 9)),
                                     ((1, 2, 5, 7), (13, 9)), ((1, 2, 5, 7), (1, 3))])
def test_bilinear_matches_torch(dtype, xs, size):
    x = rnd(xs, dtype=dtype)
    expect = F.interpolate(t(x), size=size, mode="bilinear", align_corners=True).numpy()
    tol = dict(rtol=1e-12, atol=1e-14) if dtype == np.float64 else dict(rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(ref.upsample_bilinear(x, size, coord_dtype=dtype), expect, **tol)


@needs_torch
@pytest.mark.parametrize("xs,r", [((2, 12, 3, 4), 2), ((2, 8, 3, 4), 2), ((1, 18, 2, 3), 3)])
def test_pixel_shuffle_matches_torch(xs, r):
    x = rnd(xs)
    np.testing.assert_array_equal(ref.pixel_shuffle(x, r), F.pixel_shuffle(t(x), r).numpy())


@needs_torch
@pytest.mark.parametrize("mode,tmode", [("constant", "constant"), ("reflect", "reflect"),
                                        ("edge", "replicate")])
@pytest.mark.parametrize("pads", [(1, 2, 3, 0), (2, 1, 0, 2)])
def test_pad2d_matches_torch(mode, tmode, pads):
    x = rnd((2, 3, 5, 6))
    np.testing.assert_array_equal(ref.pad2d(x, *pads, mode=mode), F.pad(t(x), pads, mode=tmode).numpy())


@needs_torch
def test_softmax_and_lrn_match_torch():
    x = rnd((2, 7, 3, 4)) * 10
    np.testing.assert_allclose(ref.softmax(x, 1), torch.softmax(t(x), 1).numpy(), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(ref.log_softmax(x, 1), torch.log_softmax(t(x), 1).numpy(), rtol=1e-12)
    for size in (5, 4, 1):
        np.testing.assert_allclose(ref.local_response_norm(x, size, 1e-2, 0.75, 2.0),
                                   F.local_response_norm(t(x), size, 1e-2, 0.75, 2.0).numpy(), rtol=1e-12)
