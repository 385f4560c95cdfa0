"""inn.SpatialStochasticPooling (`require 'inn'`) against a NumPy reference written from
inn's CUDA kernels (Caffe's), float and double, batch and single image, evaluation and
training (its uniforms replayed from MT19937, which numpy's legacy RandomState seeds as
Torch7's THRandom does), with a save/load round trip."""
import math

import numpy as np
import pytest

import sparktorch7 as st
from pkg_helpers import DTYPES, TNAME, mt_uniforms, package_fixture, roundtrip

lua = package_fixture("inn")


def windows(H, W, kH, kW, dH, dW):
    oH, oW = math.ceil((H - kH) / dH) + 1, math.ceil((W - kW) / dW) + 1
    for ph in range(oH):
        for pw in range(oW):
            yield ph, pw, slice(ph * dH, min(ph * dH + kH, H)), slice(pw * dW, min(pw * dW + kW, W))


def stochastic_ref(x, k, d, u=None):
    """x (N, C, H, W) non-negative; u None for evaluation, else (N, C, oH, oW) uniforms."""
    N, C, H, W = x.shape
    oH, oW = math.ceil((H - k[0]) / d[0]) + 1, math.ceil((W - k[1]) / d[1]) + 1
    out = np.zeros((N, C, oH, oW))
    idx = np.zeros((N, C, oH, oW))
    for n in range(N):
        for c in range(C):
            for ph, pw, rs, cs in windows(H, W, k[0], k[1], d[0], d[1]):
                win = x[n, c, rs, cs]
                if u is None:
                    out[n, c, ph, pw] = (win ** 2).sum() / win.sum()
                    continue
                thres = u[n, c, ph, pw] * win.sum()
                run = 0.0
                for r in range(win.shape[0]):
                    for q in range(win.shape[1]):
                        run += win[r, q]
                        if run >= thres:
                            out[n, c, ph, pw] = win[r, q]
                            idx[n, c, ph, pw] = ((n * C + c) * H + rs.start + r) * W + cs.start + q
                            break
                    else:
                        continue
                    break
    return out, idx


@pytest.mark.parametrize("dtype", DTYPES)
def test_stochastic_pooling_evaluation(lua, dtype):
    x = np.random.default_rng(0).random((2, 3, 7, 8)) + 0.01
    lua.execute(f"m = inn.SpatialStochasticPooling(3, 3, 2, 2):type('{TNAME[dtype]}'); m:evaluate()")
    f = lua.eval("function(x) return m:forward(x):clone() end")
    out = f(x.astype(dtype))
    ref, _ = stochastic_ref(x.astype(dtype).astype(np.float64), (3, 3), (2, 2))
    assert out.shape == (2, 3, 3, 4)                      # ceil((7-3)/2)+1, ceil((8-3)/2)+1
    rtol = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(out, ref, rtol=rtol)
    np.testing.assert_allclose(f(x[1].astype(dtype)), ref[1], rtol=rtol)
    roundtrip(lua, x, dtype)
    assert lua.eval("torch.type(m2)") == "inn.SpatialStochasticPooling"


@pytest.mark.parametrize("dtype", DTYPES)
def test_stochastic_pooling_training(lua, dtype):
    x = np.random.default_rng(1).random((2, 2, 6, 6))
    x[0, 0, :2, :2] = 0                                     # zero weight pixels are never picked
    lua.execute(f"m = inn.SpatialStochasticPooling(2, 3, 2, 3):type('{TNAME[dtype]}')")
    f = lua.eval("function(x, seed) torch.manualSeed(seed); return m:forward(x):clone(), m.indices:clone() end")
    out, idx = f(x.astype(dtype), 5)
    u = mt_uniforms(5, 2 * 2 * 2 * 3)
    u = u.astype(dtype).astype(np.float64).reshape(2, 2, 2, 3)
    ref, ridx = stochastic_ref(x.astype(dtype).astype(np.float64), (3, 2), (3, 2), u)
    np.testing.assert_array_equal(out, ref.astype(dtype))
    np.testing.assert_array_equal(idx, ridx)
    # each output is one of its window's pixels
    flat = x.astype(dtype).ravel()
    np.testing.assert_array_equal(flat[idx.astype(np.int64)], out)
    single, sidx = f(x[1].astype(dtype), 6)
    u1 = mt_uniforms(6, 2 * 2 * 3)
    ref1, ridx1 = stochastic_ref(x[1:].astype(dtype).astype(np.float64), (3, 2), (3, 2),
                                 u1.astype(dtype).astype(np.float64).reshape(1, 2, 2, 3))
    np.testing.assert_array_equal(single, ref1[0].astype(dtype))
    with pytest.raises(st.LuaError, match=r"<inn.SpatialStochasticPooling> input image \(2x6\) is smaller than the kernel \(3x2\)"):
        f(x[:, :, :2].astype(dtype), 1)


def test_stochastic_pooling_takes_a_non_contiguous_image(lua):
    x = np.random.default_rng(2).random((3, 6, 8)) + 0.1
    f = lua.eval("function(x, t) local m = inn.SpatialStochasticPooling(2, 2):evaluate(); "
                 "local v = torch.Tensor(x); if t then v = v:transpose(2, 3):contiguous():transpose(2, 3) end; "
                 "return m:forward(v) end")
    assert not lua.eval("torch.Tensor(3, 6, 8):transpose(2, 3):contiguous():transpose(2, 3):isContiguous()")
    np.testing.assert_array_equal(f(x, True), f(x, False))
