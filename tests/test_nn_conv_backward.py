"""Gradients of the spatial, temporal and volumetric nn modules (and their cudnn twins):
updateGradInput and accGradParameters (with scale) called directly on each module,
checked against central finite differences of the module's own forward in double
precision, against NumPy reference formulas for the heavy ones, and between the
float and double versions of the same module.
"""
import numpy as np
import pytest

import sparktorch7 as st

from fd_helpers import backward, check, rnd


@pytest.fixture(scope="module")
def lua():
    state = st.LuaState()
    state.require("nn")
    state.require("cudnn")
    yield state
    state.close()


# --- convolutions ---------------------------------------------------------------------

@pytest.mark.parametrize("ctor,shape", [
    ("nn.SpatialConvolution(2, 3, 3, 3)", (2, 2, 5, 6)),
    ("nn.SpatialConvolution(2, 3, 3, 2, 2, 1, 1, 0)", (2, 5, 7)),
    ("nn.SpatialConvolutionMM(3, 2, 2, 3, 1, 2, 0, 1)", (1, 3, 5, 4)),
    ("nn.SpatialDilatedConvolution(2, 2, 3, 2, 1, 2, 1, 1, 2, 2)", (2, 2, 7, 6)),
    ("cudnn.SpatialConvolution(4, 2, 3, 3, 1, 1, 1, 1, 2)", (1, 4, 4, 5)),
    ("nn.SpatialFullConvolution(2, 3, 3, 3, 2, 2, 1, 1, 1, 0)", (2, 2, 3, 4)),
    ("nn.SpatialFullConvolution(3, 2, 2, 3, 1, 2)", (3, 3, 4)),
    ("cudnn.SpatialFullConvolution(2, 2, 3, 2, 2, 1, 1, 0)", (1, 2, 3, 3)),
    ("nn.VolumetricConvolution(2, 2, 2, 3, 2, 1, 2, 1, 1, 0, 1)", (1, 2, 4, 4, 5)),
    ("nn.VolumetricConvolution(1, 2, 2, 2, 2)", (1, 3, 3, 3)),
    ("nn.VolumetricFullConvolution(2, 1, 2, 2, 3, 2, 1, 2, 0, 1, 0)", (1, 2, 2, 3, 2)),
    ("nn.TemporalConvolution(3, 2, 3, 2)", (7, 3)),
    ("nn.TemporalConvolution(2, 3, 2, 1)", (2, 5, 2)),
])
def test_convolution_gradients(lua, ctor, shape):
    check(lua, ctor, shape)


def test_convolution_gradients_match_numpy_formula(lua):
    """gradInput, gradWeight, gradBias of a padded, strided convolution written as sums."""
    x, g, _, _ = check(lua, "nn.SpatialConvolution(2, 3, 3, 2, 2, 1, 1, 1)", (2, 2, 5, 6))
    lua.execute("m = m:double()")
    gin, gp = backward(lua, x, g, 0.5, ["gradWeight", "gradBias"])
    w = np.array(lua.eval("m.weight"))
    xp = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
    rgin = np.zeros_like(xp)
    rgw = np.zeros_like(w)
    n, o, oh, ow = g.shape
    for i in range(oh):
        for j in range(ow):
            win = xp[:, :, i:i + 2, 2 * j:2 * j + 3]
            rgin[:, :, i:i + 2, 2 * j:2 * j + 3] += np.einsum("no,ockl->nckl", g[:, :, i, j], w)
            rgw += np.einsum("no,nckl->ockl", g[:, :, i, j], win)
    np.testing.assert_allclose(gin, rgin[:, :, 1:-1, 1:-1], rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(gp["gradWeight"], 0.5 * rgw, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(gp["gradBias"], 0.5 * g.sum(axis=(0, 2, 3)), rtol=1e-12)


def test_acc_grad_parameters_accumulates(lua):
    lua.execute("m = nn.SpatialConvolution(1, 2, 2, 2)")
    x, g = rnd((1, 4, 4)), rnd((2, 3, 3), 1)
    _, first = backward(lua, x, g, 1.0, ["gradWeight"])
    lua.execute("m:accGradParameters(x, g, 2)")
    np.testing.assert_allclose(np.array(lua.eval("m.gradWeight")), 3 * first["gradWeight"])


def test_no_bias_and_bad_grad_output(lua):
    lua.execute("m = nn.SpatialConvolution(1, 2, 2, 2):noBias()")
    check(lua, "nn.SpatialConvolution(1, 2, 2, 2):noBias()", (1, 4, 3), params=("weight",))
    lua.execute("m = nn.SpatialConvolution(1, 2, 2, 2)")
    lua["x"], lua["g"] = rnd((1, 4, 4)), rnd((2, 2, 2))
    lua.execute("m:forward(x)")
    with pytest.raises(st.LuaError, match=r"<nn.SpatialConvolution> gradOutput of size 2x3x3"):
        lua.execute("m:updateGradInput(x, g)")


# --- pooling --------------------------------------------------------------------------

@pytest.mark.parametrize("ctor,shape", [
    ("nn.SpatialMaxPooling(2, 2)", (2, 2, 4, 6)),
    ("nn.SpatialMaxPooling(3, 2, 2, 1, 1, 1)", (2, 5, 7)),
    ("nn.SpatialMaxPooling(3, 3, 2, 2):ceil()", (1, 2, 6, 5)),
    ("nn.SpatialDilatedMaxPooling(2, 2, 1, 2, 1, 0, 2, 1)", (2, 2, 5, 6)),
    ("cudnn.SpatialMaxPooling(3, 2, 2, 2, 1, 1)", (1, 2, 5, 5)),
    ("nn.SpatialAveragePooling(2, 2)", (2, 2, 4, 6)),
    ("nn.SpatialAveragePooling(3, 3, 2, 2, 1, 1)", (2, 5, 6)),
    ("nn.SpatialAveragePooling(3, 2, 2, 2, 1, 1):ceil():setCountExcludePad()", (1, 2, 6, 5)),
    ("nn.SpatialAveragePooling(3, 3, 2, 1, 1, 0):ceil()", (2, 6, 4)),
    ("cudnn.SpatialAveragePooling(2, 3, 2, 1, 1, 1)", (1, 2, 4, 5)),
    ("nn.SpatialAdaptiveMaxPooling(3, 2)", (2, 2, 5, 7)),
    ("nn.SpatialAdaptiveAveragePooling(4, 3)", (2, 5, 6)),
    ("nn.VolumetricMaxPooling(2, 2, 2, 1, 2, 1)", (1, 2, 3, 4, 5)),
    ("nn.VolumetricMaxPooling(2, 3, 2, 2, 2, 2, 1, 1, 1)", (2, 4, 5, 4)),
    ("nn.VolumetricAveragePooling(2, 2, 2, 1, 1, 2)", (1, 2, 3, 4, 5)),
    ("cudnn.VolumetricMaxPooling(2, 2, 2)", (2, 4, 4, 4)),
    ("nn.TemporalMaxPooling(3, 2)", (8, 3)),
    ("nn.TemporalMaxPooling(2)", (2, 6, 3)),
])
def test_pooling_gradients(lua, ctor, shape):
    check(lua, ctor, shape, params=())


def test_max_pooling_uses_saved_indices(lua):
    """After an unpooling module asked for them, forward saves indices; the gradient
    goes where they point, which a NumPy argmax reproduces."""
    lua.execute("m = nn.SpatialMaxPooling(2, 2); u = nn.SpatialMaxUnpooling(m)")
    x, g = rnd((2, 3, 4, 6)), rnd((2, 3, 2, 3), 1)
    gin, _ = backward(lua, x, g)
    ref = np.zeros_like(x)
    for i in range(2):
        for j in range(3):
            win = x[:, :, 2 * i:2 * i + 2, 2 * j:2 * j + 2].reshape(2, 3, 4)
            k = win.argmax(axis=2)
            for n in range(2):
                for c in range(3):
                    ref[n, c, 2 * i + k[n, c] // 2, 2 * j + k[n, c] % 2] += g[n, c, i, j]
    np.testing.assert_array_equal(gin, ref)
    assert np.array(lua.eval("m.indices")).shape == (2, 3, 2, 3)


def test_average_pooling_gradient_formula(lua):
    """count_include_pad: every window divides by kW*kH, so each input cell gets the sum
    of gout over the windows covering it / (kW*kH)."""
    lua.execute("m = nn.SpatialAveragePooling(3, 3, 1, 1, 1, 1)")
    x, g = rnd((1, 4, 5)), rnd((1, 4, 5), 1)
    gin, _ = backward(lua, x, g)
    gp = np.pad(g, ((0, 0), (1, 1), (1, 1)))
    ref = sum(gp[:, i:i + 4, j:j + 5] for i in range(3) for j in range(3)) / 9
    np.testing.assert_allclose(gin, ref, rtol=1e-12)


# --- batch normalization --------------------------------------------------------------

BN_CASES = [
    ("nn.BatchNormalization(3)", (5, 3)),
    ("nn.BatchNormalization(3, 1e-3, 0.2, false)", (4, 3)),
    ("nn.SpatialBatchNormalization(2)", (3, 2, 3, 4)),
    ("cudnn.SpatialBatchNormalization(3, 1e-5, 0.1, false)", (2, 3, 2, 3)),
    ("nn.VolumetricBatchNormalization(2)", (2, 2, 2, 3, 2)),
]


@pytest.mark.parametrize("ctor,shape", BN_CASES)
def test_batchnorm_training_gradients(lua, ctor, shape):
    affine = "false" not in ctor
    check(lua, ctor, shape, params=("weight", "bias") if affine else (),
          setup="m:training(); if m.weight then m.weight:uniform(0.5, 1.5); m.bias:normal() end")


@pytest.mark.parametrize("ctor,shape", [BN_CASES[0], BN_CASES[2], ("nn.SpatialBatchNormalization(2)", (2, 3, 4))])
def test_batchnorm_evaluation_gradients(lua, ctor, shape):
    check(lua, ctor, shape, setup="m.running_mean:normal(); m.running_var:uniform(0.5, 2); "
                                  "m.weight:uniform(0.5, 1.5); m:evaluate()")


def test_batchnorm_saves_statistics_and_matches_formula(lua):
    """Training forward keeps the batch mean and 1/sqrt(var + eps) (biased) as Torch7's
    save_mean/save_std, moves the running stats by momentum (unbiased variance), and the
    backward is THNN's formula written out in NumPy."""
    for ctor, x in [("nn.BatchNormalization(3, 1e-5, 0.3)", rnd((6, 3))),
                    ("nn.SpatialBatchNormalization(3, 1e-5, 0.3)", rnd((4, 3, 2, 3)))]:
        lua.execute(f"m = {ctor}; m.weight:uniform(0.5, 1.5); m.running_mean:fill(0.5); "
                    "m.running_var:fill(2)")
        g = rnd(x.shape, 3)
        gin, gp = backward(lua, x, g, 0.5, ["gradWeight", "gradBias"])
        axes = (0,) + tuple(range(2, x.ndim))
        shp = (1, 3) + (1,) * (x.ndim - 2)
        cnt = x.size // 3
        mean, var = x.mean(axis=axes), x.var(axis=axes)
        invstd = 1 / np.sqrt(var + 1e-5)
        np.testing.assert_allclose(np.array(lua.eval("m.save_mean")), mean, rtol=1e-12)
        np.testing.assert_allclose(np.array(lua.eval("m.save_std")), invstd, rtol=1e-10)
        np.testing.assert_allclose(np.array(lua.eval("m.running_mean")), 0.7 * 0.5 + 0.3 * mean)
        np.testing.assert_allclose(np.array(lua.eval("m.running_var")),
                                   0.7 * 2 + 0.3 * var * cnt / (cnt - 1))
        w = np.array(lua.eval("m.weight"))
        xhat = (x - mean.reshape(shp)) * invstd.reshape(shp)
        ref = (w * invstd).reshape(shp) / cnt * (
            cnt * g - g.sum(axis=axes).reshape(shp) - xhat * (g * xhat).sum(axis=axes).reshape(shp))
        np.testing.assert_allclose(gin, ref, rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(gp["gradWeight"], 0.5 * (g * xhat).sum(axis=axes), rtol=1e-10)
        np.testing.assert_allclose(gp["gradBias"], 0.5 * g.sum(axis=axes), rtol=1e-10)


# --- padding, resampling, softmax, LRN, dropout ---------------------------------------

@pytest.mark.parametrize("ctor,shape", [
    ("nn.SpatialZeroPadding(1, 2, 0, 1)", (2, 2, 3, 4)),
    ("nn.SpatialZeroPadding(-1, 1, 2, -1)", (2, 4, 5)),
    ("nn.SpatialReflectionPadding(2, 1, 1, 2)", (1, 2, 4, 5)),
    ("nn.SpatialReplicationPadding(2, 0, 3, 1)", (2, 3, 4)),
    ("nn.SpatialUpSamplingNearest(2)", (2, 2, 3, 2)),
    ("nn.SpatialUpSamplingNearest(3)", (2, 2, 3)),
    ("nn.SpatialUpSamplingBilinear(2)", (1, 2, 3, 4)),
    ("nn.SpatialUpSamplingBilinear({oheight = 5, owidth = 7})", (2, 3, 4)),
    ("nn.SpatialSoftMax()", (2, 4, 2, 3)),
    ("nn.SpatialSoftMax()", (3, 2, 2)),
    ("nn.SpatialLogSoftMax()", (2, 3, 2, 2)),
    ("cudnn.SpatialSoftMax()", (2, 3, 2, 2)),
    ("cudnn.SpatialLogSoftMax()", (3, 2, 3)),
    ("cudnn.SpatialSoftMax(); m.mode = 'CUDNN_SOFTMAX_MODE_INSTANCE'", (2, 3, 2, 2)),
    ("nn.SpatialCrossMapLRN(3, 0.5, 0.75, 1)", (2, 5, 2, 3)),
    ("nn.SpatialCrossMapLRN(4, 1.0, 0.6, 2)", (4, 3, 2)),
    ("cudnn.SpatialCrossMapLRN(4, 0.8, 0.75, 1.5)", (1, 6, 2, 2)),
])
def test_parameterless_gradients(lua, ctor, shape):
    check(lua, ctor, shape, params=())


def test_padding_and_upsampling_formulas(lua):
    lua.execute("m = nn.SpatialReflectionPadding(1, 1, 1, 1)")
    x, g = rnd((1, 3, 3)), rnd((1, 5, 5), 1)
    gin, _ = backward(lua, x, g)
    ref = np.zeros_like(x)
    src = np.array([1, 0, 1, 2, 1])  # reflected index of each padded row/column
    for i in range(5):
        for j in range(5):
            ref[:, src[i], src[j]] += g[:, i, j]
    np.testing.assert_allclose(gin, ref, rtol=1e-12)
    lua.execute("m = nn.SpatialUpSamplingNearest(2)")
    x, g = rnd((2, 2, 3)), rnd((2, 4, 6), 1)
    gin, _ = backward(lua, x, g)
    np.testing.assert_allclose(gin, g.reshape(2, 2, 2, 3, 2).sum(axis=(2, 4)), rtol=1e-12)


@pytest.mark.parametrize("cls,shape", [("SpatialDropout", (3, 4, 2, 2)),
                                       ("SpatialDropout", (5, 2, 3)),
                                       ("VolumetricDropout", (2, 6, 2, 2, 2))])
def test_channel_dropout_gradient(lua, cls, shape):
    """Training: gradOutput times the forward's channel mask; evaluation: times 1 - p."""
    lua.execute(f"torch.manualSeed(3); m = nn.{cls}(0.4)")
    x, g = rnd(shape), rnd(shape, 1)
    gin, _ = backward(lua, x, g)
    out = np.array(lua.eval("m.output"))
    noise = np.array(lua.eval("m.noise")).reshape(shape[:2] if len(shape) == 4 + (cls[0] == "V")
                                                  else shape[:1])
    mask = noise.reshape(noise.shape + (1,) * (len(shape) - noise.ndim))
    assert set(np.unique(noise)) <= {0.0, 1.0}
    np.testing.assert_allclose(out, x * mask)
    np.testing.assert_allclose(gin, g * mask)
    lua.execute("m:evaluate()")
    gin, _ = backward(lua, x, g)
    np.testing.assert_allclose(gin, 0.6 * g)
