"""The spatial, temporal and volumetric nn modules (and their cudnn twins) run from Lua,
each compared with a reference computed outside sparktorch7.

References: NumPy formulas written from Torch7's sources, here and in numpy_ref.py
(convolutions, poolings, bilinear up-sampling, pixel shuffle, which test_numpy_ref.py
also checks against PyTorch where that is installed).
"""
import numpy as np
import pytest

import numpy_ref
import sparktorch7 as st

DTYPES = [np.float64, np.float32]
TOL = {np.float32: dict(rtol=2e-4, atol=2e-5), np.float64: dict(rtol=1e-10, atol=1e-12)}


@pytest.fixture
def lua():
    state = st.LuaState()
    state.require("nn")
    return state


def rnd(shape, dtype=np.float64, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


def build(lua, ctor, dtype=np.float64):
    """m = <ctor>, converted to the dtype's tensor type."""
    conv = ":float()" if dtype == np.float32 else ""
    lua.execute(f"m = {ctor}{conv}")


def forward(lua, x, expr="m"):
    lua["x"] = x
    return np.array(lua.eval(f"{expr}:forward(x)"))


def field(lua, name):
    return np.array(lua.eval(f"m.{name}"))


def both(lua, x, ref, dtype, expr="m"):
    """Batch input against ref, and its first sample alone against ref[0]."""
    np.testing.assert_allclose(forward(lua, x, expr), ref, **TOL[dtype])
    np.testing.assert_allclose(forward(lua, np.ascontiguousarray(x[0]), expr), ref[0], **TOL[dtype])


# --- convolutions ---------------------------------------------------------------------

@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("cls", ["SpatialConvolution", "SpatialConvolutionMM"])
@pytest.mark.parametrize("args,stride,pad", [
    ((3, 3), (1, 1), (0, 0)),
    ((3, 3, 1, 1, 1, 1), (1, 1), (1, 1)),
    ((5, 3, 2, 1, 0, 2), (1, 2), (2, 0)),
])
def test_convolution(lua, dtype, cls, args, stride, pad):
    kW, kH = args[:2]
    build(lua, f"nn.{cls}(4, 6, {', '.join(map(str, args))})", dtype)
    x = rnd((3, 4, 11, 9), dtype)
    w, b = field(lua, "weight"), field(lua, "bias")
    assert w.shape == (6, 4, kH, kW) and w.dtype == dtype
    ref = numpy_ref.conv2d(x, w, b, stride=stride, padding=pad)
    both(lua, x, ref, dtype)


def test_convolution_no_bias_and_noncontiguous_input(lua):
    build(lua, "nn.SpatialConvolution(3, 5, 3, 3, 1, 1, 1, 1):noBias()")
    assert lua.eval("m.bias") is None
    x = rnd((2, 9, 8, 3)).transpose(0, 3, 1, 2)
    ref = numpy_ref.conv2d(x, field(lua, "weight"), None, padding=1)
    np.testing.assert_allclose(forward(lua, x), ref, rtol=1e-10, atol=1e-12)


def test_convolution_back_compatibility(lua):
    """Old files: `padding` instead of padW/padH, a 2-D MM weight."""
    build(lua, "nn.SpatialConvolutionMM(3, 4, 3, 3)")
    w, b = field(lua, "weight"), field(lua, "bias")
    lua.execute("m.weight = m.weight:view(4, 27); m.padding = 1; m.padW = nil; m.padH = nil")
    x = rnd((2, 3, 6, 7))
    ref = numpy_ref.conv2d(x, w, b, padding=1)
    np.testing.assert_allclose(forward(lua, x), ref, rtol=1e-10, atol=1e-12)
    assert lua.eval("m.padW") == 1 and lua.eval("m.padH") == 1 and lua.eval("m.padding") is None
    assert field(lua, "weight").shape == (4, 3, 3, 3)


@pytest.mark.parametrize("dtype", DTYPES)
def test_dilated_convolution(lua, dtype):
    build(lua, "nn.SpatialDilatedConvolution(3, 4, 3, 2, 2, 1, 1, 2, 2, 3)", dtype)
    x = rnd((2, 3, 12, 13), dtype)
    ref = numpy_ref.conv2d(x, field(lua, "weight"), field(lua, "bias"), stride=(1, 2),
                           padding=(2, 1), dilation=(3, 2))
    both(lua, x, ref, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("args,stride,pad,adj", [
    ("3, 3", (1, 1), (0, 0), (0, 0)),
    ("4, 3, 3, 2, 1, 1, 2, 1", (2, 3), (1, 1), (1, 2)),
])
def test_full_convolution(lua, dtype, args, stride, pad, adj):
    build(lua, f"nn.SpatialFullConvolution(4, 3, {args})", dtype)
    w = field(lua, "weight")
    assert w.shape[:2] == (4, 3)
    x = rnd((2, 4, 5, 6), dtype)
    ref = numpy_ref.conv_transpose2d(x, w, field(lua, "bias"), stride=stride, padding=pad,
                                     output_padding=adj)
    both(lua, x, ref, dtype)


def test_full_convolution_target_size(lua):
    build(lua, "nn.SpatialFullConvolution(2, 3, 3, 3, 2, 2, 1, 1)")
    lua["x"] = rnd((1, 2, 5, 5))
    lua["target"] = np.zeros((1, 3, 10, 10))
    assert lua.eval("m:forward({x, target})").shape == (1, 3, 10, 10)
    assert lua.eval("m:forward(x)").shape == (1, 3, 9, 9)


@pytest.mark.parametrize("dtype", DTYPES)
def test_volumetric_convolution(lua, dtype):
    build(lua, "nn.VolumetricConvolution(3, 4, 2, 3, 3, 1, 2, 1, 1, 0, 1)", dtype)
    w = field(lua, "weight")
    assert w.shape == (4, 3, 2, 3, 3)
    x = rnd((2, 3, 5, 6, 7), dtype)
    ref = numpy_ref.conv3d(x, w, field(lua, "bias"), stride=(1, 1, 2), padding=(1, 1, 0))
    both(lua, x, ref, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_temporal_convolution(lua, dtype):
    build(lua, "nn.TemporalConvolution(4, 5, 3, 2)", dtype)
    w, b = field(lua, "weight"), field(lua, "bias")
    assert w.shape == (5, 12)
    x = rnd((3, 10, 4), dtype)
    ref = np.stack([x[:, i * 2:i * 2 + 3].reshape(3, -1) @ w.T + b for i in range(4)], axis=1)
    both(lua, x, ref, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_subsampling(lua, dtype):
    build(lua, "nn.SpatialSubSampling(3, 2, 3, 2, 1)", dtype)
    w, b = field(lua, "weight"), field(lua, "bias")
    x = rnd((2, 3, 7, 8), dtype)
    win = np.lib.stride_tricks.sliding_window_view(x, (3, 2), axis=(2, 3))[:, :, :, ::2]
    ref = win.sum(axis=(4, 5)) * w[:, None, None] + b[:, None, None]
    both(lua, x, ref, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("table", ["nn.tables.oneToOne(3)", "nn.tables.full(3, 2)",
                                   "torch.Tensor({{1, 2}, {3, 2}, {2, 1}})"])
def test_convolution_map(lua, dtype, table):
    build(lua, f"nn.SpatialConvolutionMap({table}, 3, 2, 1, 2)", dtype)
    conn = field(lua, "connTable").astype(int) - 1
    w, b = field(lua, "weight"), field(lua, "bias")
    x = rnd((2, 3, 7, 8), dtype)
    ref = np.zeros((2, b.shape[0], 3, 6)) + b[:, None, None]
    for k, (i, o) in enumerate(conn):
        ref[:, o] += numpy_ref.conv2d(x[:, i:i + 1], w[k][None, None], stride=(2, 1))[:, 0]
    both(lua, x, ref, dtype)


# --- poolings -------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("args,k,s,p,ceil", [
    ("2, 2", (2, 2), (2, 2), (0, 0), False),
    ("3, 3, 2, 2, 1, 1", (3, 3), (2, 2), (1, 1), True),
    ("3, 2, 1, 2, 1, 0", (2, 3), (2, 1), (0, 1), False),
    ("3, 3, 2, 2", (3, 3), (2, 2), (0, 0), True),
])
def test_max_pooling(lua, dtype, args, k, s, p, ceil):
    build(lua, f"nn.SpatialMaxPooling({args})" + (":ceil()" if ceil else ""), dtype)
    x = rnd((2, 3, 10, 9), dtype)
    ref = numpy_ref.max_pool2d(x, k, s, p, ceil_mode=ceil)
    both(lua, x, ref, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_dilated_max_pooling(lua, dtype):
    build(lua, "nn.SpatialDilatedMaxPooling(3, 2, 1, 2, 1, 0, 2, 3)", dtype)
    x = rnd((2, 3, 12, 11), dtype)
    ref = numpy_ref.max_pool2d(x, (2, 3), (2, 1), (0, 1), dilation=(3, 2))
    both(lua, x, ref, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("args,k,s,p,ceil,inc", [
    ("2, 2, 2, 2", (2, 2), (2, 2), (0, 0), False, True),
    ("3, 3, 2, 2, 1, 1", (3, 3), (2, 2), (1, 1), True, True),
    ("3, 3, 2, 2, 1, 1", (3, 3), (2, 2), (1, 1), True, False),
    ("2, 3, 2, 1, 1, 1", (3, 2), (1, 2), (1, 1), False, False),
])
def test_average_pooling(lua, dtype, args, k, s, p, ceil, inc):
    ctor = f"nn.SpatialAveragePooling({args})" + (":ceil()" if ceil else "")
    ctor += "" if inc else ":setCountExcludePad()"
    build(lua, ctor, dtype)
    x = rnd((2, 3, 9, 8), dtype)
    ref = numpy_ref.avg_pool2d(x, k, s, p, ceil_mode=ceil, count_include_pad=inc)
    both(lua, x, ref, dtype)


def test_average_pooling_old_files(lua):
    """No ceil_mode/padding fields: Torch7's defaults; no `divide`: sum pooling."""
    build(lua, "nn.SpatialAveragePooling(2, 2, 2, 2)")
    lua.execute("m.ceil_mode = nil; m.count_include_pad = nil; m.padW = nil; m.padH = nil")
    x = rnd((1, 2, 4, 6))
    ref = x.reshape(1, 2, 2, 2, 3, 2).mean(axis=(3, 5))
    np.testing.assert_allclose(forward(lua, x), ref, rtol=1e-12)
    lua.execute("m.divide = nil")
    np.testing.assert_allclose(forward(lua, x), ref * 4, rtol=1e-12)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("kind,tf", [("Max", numpy_ref.adaptive_max_pool2d),
                                     ("Average", numpy_ref.adaptive_avg_pool2d)])
@pytest.mark.parametrize("W,H", [(4, 3), (5, 7), (1, 1)])
def test_adaptive_pooling(lua, dtype, kind, tf, W, H):
    build(lua, f"nn.SpatialAdaptive{kind}Pooling({W}, {H})", dtype)
    x = rnd((2, 3, 10, 7), dtype)
    both(lua, x, tf(x, (H, W)), dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_lp_pooling(lua, dtype):
    build(lua, "nn.SpatialLPPooling(3, 2, 2, 2, 2, 2)", dtype)
    x = rnd((2, 3, 6, 4), dtype)
    ref = np.sqrt((x ** 2).reshape(2, 3, 3, 2, 2, 2).sum(axis=(3, 5)))
    both(lua, x, ref, dtype)
    build(lua, "nn.SpatialLPPooling(3, 3, 2, 2)", dtype)
    ax = np.abs(x)
    ref = np.cbrt((ax ** 3).reshape(2, 3, 3, 2, 2, 2).sum(axis=(3, 5)))
    both(lua, ax, ref, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_volumetric_pooling(lua, dtype):
    x = rnd((2, 2, 5, 6, 7), dtype)
    build(lua, "nn.VolumetricMaxPooling(2, 3, 3, 1, 2, 2, 1, 1, 1)", dtype)
    both(lua, x, numpy_ref.max_pool3d(x, (2, 3, 3), (1, 2, 2), (1, 1, 1)), dtype)
    build(lua, "nn.VolumetricMaxPooling(2, 2, 2):ceil()", dtype)
    both(lua, x, numpy_ref.max_pool3d(x, 2, 2, ceil_mode=True), dtype)
    build(lua, "nn.VolumetricAveragePooling(2, 3, 3, 1, 2, 2)", dtype)
    both(lua, x, numpy_ref.avg_pool3d(x, (2, 3, 3), (1, 2, 2)), dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_temporal_pooling_and_subsampling(lua, dtype):
    x = rnd((2, 9, 3), dtype)
    build(lua, "nn.TemporalMaxPooling(3)", dtype)
    both(lua, x, x.reshape(2, 3, 3, 3).max(axis=2), dtype)
    build(lua, "nn.TemporalSubSampling(3, 3, 2)", dtype)
    w, b = field(lua, "weight"), field(lua, "bias")
    ref = np.stack([x[:, i * 2:i * 2 + 3].sum(axis=1) for i in range(4)], axis=1) * w + b
    both(lua, x, ref, dtype)


# --- normalisation, softmax -----------------------------------------------------------

@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("cls,shape", [("SpatialBatchNormalization", (4, 3, 5, 5)),
                                       ("VolumetricBatchNormalization", (2, 3, 3, 4, 5))])
def test_batch_normalization_evaluate(lua, dtype, cls, shape):
    build(lua, f"nn.{cls}(3)", dtype)
    lua["rm"], lua["rv"] = rnd(3, dtype, 3), np.abs(rnd(3, dtype, 4)) + 0.5
    lua.execute("m.running_mean:copy(rm); m.running_var:copy(rv); m.bias:fill(0.25); m:evaluate()")
    w, b, rm, rv = (field(lua, n) for n in ("weight", "bias", "running_mean", "running_var"))
    x = rnd(shape, dtype)
    bc = (3,) + (1,) * (len(shape) - 2)
    ref = (x - rm.reshape(bc)) / np.sqrt(rv.reshape(bc) + 1e-5) * w.reshape(bc) + b.reshape(bc)
    both(lua, x, ref, dtype)


def test_batch_normalization_train(lua):
    build(lua, "nn.SpatialBatchNormalization(3, 1e-3, 0.2, false)")
    assert lua.eval("m.weight") is None
    x = rnd((4, 3, 5, 5))
    mean, var = x.mean(axis=(0, 2, 3)), x.var(axis=(0, 2, 3))
    ref = (x - mean[:, None, None]) / np.sqrt(var[:, None, None] + 1e-3)
    np.testing.assert_allclose(forward(lua, x), ref, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(field(lua, "running_mean"), 0.2 * mean, rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(field(lua, "running_var"),
                               0.8 + 0.2 * x.var(axis=(0, 2, 3), ddof=1), rtol=1e-10)
    with pytest.raises(st.LuaError, match=r"only mini-batch supported \(4D tensor\), got training 3D"):
        forward(lua, x[0])


def test_batch_normalization_running_std_file(lua):
    """Version-1 files kept running_std = 1/sqrt(var + eps)."""
    build(lua, "nn.SpatialBatchNormalization(2)")
    lua["s"] = np.array([2.0, 0.5])
    lua.execute("m.running_std = s; m.running_var = nil; m.weight:fill(1); m:evaluate()")
    x = rnd((1, 2, 3, 3))
    var = 1 / np.array([2.0, 0.5]) ** 2 - 1e-5
    ref = x / np.sqrt(var + 1e-5)[:, None, None]
    np.testing.assert_allclose(forward(lua, x), ref, rtol=1e-10)


def lrn_reference(x, size, alpha, beta, k, before, after):
    c = x.shape[-3]
    out = np.empty_like(x)
    for i in range(c):
        lo, hi = max(0, i - before), min(c, i + after + 1)
        s = (x[..., lo:hi, :, :] ** 2).sum(axis=-3)
        out[..., i, :, :] = x[..., i, :, :] * (k + alpha / size * s) ** -beta
    return out


@pytest.mark.parametrize("dtype", DTYPES)
def test_cross_map_lrn(lua, dtype):
    build(lua, "nn.SpatialCrossMapLRN(5, 0.01, 0.75, 2)", dtype)
    x = rnd((2, 7, 3, 4), dtype)
    both(lua, x, lrn_reference(x, 5, 0.01, 0.75, 2, 2, 2), dtype)
    build(lua, "nn.SpatialCrossMapLRN(4)", dtype)
    both(lua, x, lrn_reference(x, 4, 1e-4, 0.75, 1, 1, 1), dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("log", [False, True])
def test_spatial_softmax(lua, dtype, log):
    build(lua, "nn.SpatialLogSoftMax()" if log else "nn.SpatialSoftMax()", dtype)
    x = rnd((2, 4, 3, 5), dtype) * 10
    e = np.exp(x - x.max(axis=1, keepdims=True))
    ref = e / e.sum(axis=1, keepdims=True)
    both(lua, x, np.log(ref) if log else ref, dtype)


def local_reference(x, k2):
    """Torch7's construction, literally: zero padding, one-to-one convolution of each
    plane with the normalised kernel, sum over planes; and the same on ones."""
    c, h, w = x.shape
    kh, kw = k2.shape
    kn = k2 / (k2.sum() * c)
    xp = np.pad(x, ((0, 0), (kh // 2, kh // 2), (kw // 2, kw // 2)))
    conv = np.zeros((c, h, w))
    for i in range(kh):
        for j in range(kw):
            conv += kn[i, j] * xp[:, i:i + h, j:j + w]
    return conv.sum(axis=0)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("kernel", [np.ones((5, 3)), np.array([1.0, 2.0, 1.0])])
def test_local_normalizations(lua, dtype, kernel):
    lua["k"] = kernel
    x = rnd((2, 3, 7, 8), dtype)
    k2 = np.outer(kernel, kernel) if kernel.ndim == 1 else kernel
    coef = local_reference(np.ones_like(x[0]), k2)
    sub = np.stack([xi - local_reference(xi, k2) / coef for xi in x])
    build(lua, "nn.SpatialSubtractiveNormalization(3, k:clone())", dtype)
    both(lua, x, sub, dtype)

    def div(v):
        std = np.sqrt(local_reference(v ** 2, k2)) / coef
        return v / np.where(std > 1e-4, std, 1e-4)

    build(lua, "nn.SpatialDivisiveNormalization(3, k:clone())", dtype)
    both(lua, x, np.stack([div(xi) for xi in x]), dtype)
    build(lua, "nn.SpatialContrastiveNormalization(3, k:clone())", dtype)
    both(lua, x, np.stack([div(si) for si in sub]), dtype)


@pytest.mark.parametrize("dtype", DTYPES)
# --- padding, resampling ----------------------------------------------------------------

@pytest.mark.parametrize("cls,mode", [("SpatialZeroPadding", "constant"),
                                      ("SpatialReflectionPadding", "reflect"),
                                      ("SpatialReplicationPadding", "edge")])
@pytest.mark.parametrize("pads", [(1, 2, 3, 0), (2, -1, 0, -2)])
def test_padding(lua, dtype, cls, mode, pads):
    build(lua, f"nn.{cls}({', '.join(map(str, pads))})", dtype)
    l, r, t, b = pads
    x = rnd((2, 3, 5, 6), dtype)
    cropped = x[..., max(0, -t):5 - max(0, -b), max(0, -l):6 - max(0, -r)]
    ref = np.pad(cropped, ((0, 0), (0, 0), (max(t, 0), max(b, 0)), (max(l, 0), max(r, 0))), mode=mode)
    both(lua, x, ref, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_upsampling(lua, dtype):
    x = rnd((2, 3, 4, 5), dtype)
    build(lua, "nn.SpatialUpSamplingNearest(3)", dtype)
    both(lua, x, x.repeat(3, axis=2).repeat(3, axis=3), dtype)
    # Torch7 computes the source coordinates in float32 even for doubles: against exact
    # coordinates compare at float precision, against float32 ones at the tensor's
    build(lua, "nn.SpatialUpSamplingBilinear(3)", dtype)
    both(lua, x, numpy_ref.upsample_bilinear(x, (10, 13)), np.float32)
    both(lua, x, numpy_ref.upsample_bilinear(x, (10, 13), coord_dtype=np.float32), dtype)
    build(lua, "nn.SpatialUpSamplingBilinear({oheight = 7, owidth = 9})", dtype)
    both(lua, x, numpy_ref.upsample_bilinear(x, (7, 9)), np.float32)
    both(lua, x, numpy_ref.upsample_bilinear(x, (7, 9), coord_dtype=np.float32), dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_pixel_shuffle(lua, dtype):
    build(lua, "nn.PixelShuffle(2)", dtype)
    x = rnd((2, 12, 3, 4), dtype)
    both(lua, x, numpy_ref.pixel_shuffle(x, 2), dtype)


# --- errors ---------------------------------------------------------------------------

@pytest.mark.parametrize("ctor,shape,message", [
    ("nn.SpatialConvolution(3, 4, 3, 3)", (3, 5), r"<nn.SpatialConvolution> 3D or 4D \(batch mode\) tensor expected for input, but got: \[torch.DoubleTensor of size 3x5\]"),
    ("nn.SpatialConvolution(3, 4, 3, 3)", (2, 5, 6, 6), r"<nn.SpatialConvolution> size mismatch: input has 5 planes in dimension 2, but nInputPlane = 3"),
    ("nn.SpatialConvolution(3, 4, 5, 5)", (3, 4, 4), r"<nn.SpatialConvolution> input image \(4x4\) is too small"),
    ("nn.SpatialMaxPooling(2, 2)", (2, 2, 2, 2, 2), r"<nn.SpatialMaxPooling> 3D or 4D \(batch mode\) tensor expected"),
    ("nn.SpatialMaxPooling(2, 2, 2, 2, 2, 2)", (1, 4, 4), r"pad should be smaller than half of kernel size"),
    ("nn.VolumetricConvolution(2, 2, 1, 1, 1)", (2, 3, 3), r"<nn.VolumetricConvolution> 4D or 5D \(batch mode\)"),
    ("nn.TemporalConvolution(4, 5, 3)", (10, 3), r"<nn.TemporalConvolution> invalid input frame size. Got: 3, Expected: 4"),
    ("nn.SpatialFullConvolution(3, 4, 3, 3)", (2, 6, 6), r"<nn.SpatialFullConvolution> size mismatch: input has 2 planes"),
    ("nn.SpatialConvolution(3, 4, 3, 3)", (0, 3, 5, 5), r"<nn.SpatialConvolution> non-empty 3D or 4D \(batch mode\) tensor expected"),
])
def test_errors(lua, ctor, shape, message):
    build(lua, ctor)
    with pytest.raises(st.LuaError, match=message):
        forward(lua, np.zeros(shape))


def test_type_mismatch_error(lua):
    build(lua, "nn.SpatialConvolution(1, 1, 1, 1)")
    with pytest.raises(st.LuaError, match=r"input is a torch.FloatTensor but weight is a torch.DoubleTensor"):
        forward(lua, np.zeros((1, 2, 2), np.float32))


# --- cudnn classes ----------------------------------------------------------------------

@pytest.fixture
def cudnn(lua):
    lua.require("cudnn")
    return lua


@pytest.mark.parametrize("dtype", DTYPES)
def test_cudnn_grouped_convolution(cudnn, dtype):
    build(cudnn, "cudnn.SpatialConvolution(4, 6, 3, 3, 1, 1, 1, 1, 2)", dtype)
    assert cudnn.eval("torch.isTypeOf(m, 'nn.SpatialConvolution')")
    w = field(cudnn, "weight")
    assert w.shape == (6, 2, 3, 3)
    x = rnd((2, 4, 7, 6), dtype)
    ref = numpy_ref.conv2d(x, w, field(cudnn, "bias"), padding=1, groups=2)
    both(cudnn, x, ref, dtype)
    # the same values saved by an older cudnn.torch as groups x (nOut/g) x (nIn/g) x kH x kW
    cudnn.execute("m.weight = m.weight:view(2, 3, 2, 3, 3)")
    both(cudnn, x, ref, dtype)


def test_cudnn_full_and_volumetric_convolution(cudnn):
    build(cudnn, "cudnn.SpatialFullConvolution(3, 2, 3, 3, 2, 2, 1, 1, 1, 1)")
    x = rnd((2, 3, 4, 5))
    ref = numpy_ref.conv_transpose2d(x, field(cudnn, "weight"), field(cudnn, "bias"), stride=2,
                                     padding=1, output_padding=1)
    both(cudnn, x, ref, np.float64)
    build(cudnn, "cudnn.VolumetricConvolution(2, 3, 3, 3, 3, 1, 1, 1, 1, 1, 1)")
    x = rnd((2, 2, 4, 5, 6))
    ref = numpy_ref.conv3d(x, field(cudnn, "weight"), field(cudnn, "bias"), padding=1)
    both(cudnn, x, ref, np.float64)


def test_cudnn_pooling(cudnn):
    x = rnd((2, 3, 9, 9))
    build(cudnn, "cudnn.SpatialMaxPooling(2, 2, 2, 2):ceil()")
    both(cudnn, x, numpy_ref.max_pool2d(x, 2, 2, ceil_mode=True), np.float64)
    # cudnn keeps a last window starting in the padding, THNN drops it
    build(cudnn, "cudnn.SpatialMaxPooling(2, 2, 2, 2, 1, 1):ceil()")
    assert forward(cudnn, rnd((1, 1, 5, 5))).shape == (1, 1, 4, 4)
    build(cudnn, "nn.SpatialMaxPooling(2, 2, 2, 2, 1, 1):ceil()")
    assert forward(cudnn, rnd((1, 1, 5, 5))).shape == (1, 1, 3, 3)
    build(cudnn, "cudnn.SpatialAveragePooling(3, 3, 2, 2, 1, 1)")
    both(cudnn, x, numpy_ref.avg_pool2d(x, 3, 2, 1), np.float64)
    build(cudnn, "cudnn.VolumetricMaxPooling(2, 2, 2)")
    v = rnd((2, 2, 4, 6, 6))
    both(cudnn, v, numpy_ref.max_pool3d(v, 2), np.float64)


def test_cudnn_batchnorm_lrn_softmax(cudnn):
    x = rnd((2, 6, 3, 4))
    build(cudnn, "cudnn.SpatialBatchNormalization(6):evaluate()")
    w, b = field(cudnn, "weight"), field(cudnn, "bias")
    both(cudnn, x, x / np.sqrt(1 + 1e-5) * w[:, None, None] + b[:, None, None], np.float64)
    build(cudnn, "cudnn.VolumetricBatchNormalization(2):evaluate()")
    v = rnd((2, 2, 3, 3, 3))
    w, b = field(cudnn, "weight"), field(cudnn, "bias")
    both(cudnn, v, v / np.sqrt(1 + 1e-5) * w[:, None, None, None] + b[:, None, None, None], np.float64)
    build(cudnn, "cudnn.SpatialCrossMapLRN(4, 0.01, 0.5, 2)")
    both(cudnn, x, lrn_reference(x, 4, 0.01, 0.5, 2, 1, 2), np.float64)
    build(cudnn, "cudnn.SpatialSoftMax()")
    e = np.exp(x - x.max(axis=1, keepdims=True))
    both(cudnn, x, e / e.sum(axis=1, keepdims=True), np.float64)
    cudnn.execute("m.mode = 'CUDNN_SOFTMAX_MODE_INSTANCE'; m.algorithm = 'CUDNN_SOFTMAX_LOG'")
    flat = x.reshape(2, -1)
    ref = flat - flat.max(axis=1, keepdims=True)
    ref = ref - np.log(np.exp(ref).sum(axis=1, keepdims=True))
    np.testing.assert_allclose(forward(cudnn, x), ref.reshape(x.shape), rtol=1e-10, atol=1e-12)


# --- serialization ----------------------------------------------------------------------

def test_save_load_round_trip(cudnn):
    """A model of spatial modules survives torch.serialize/deserialize (the .t7
    binary format) and computes the same output."""
    cudnn.execute("""
    model = nn.Sequential()
    model:add(nn.SpatialConvolution(3, 8, 3, 3, 1, 1, 1, 1))
    model:add(nn.SpatialBatchNormalization(8))
    model:add(nn.SpatialMaxPooling(2, 2, 2, 2):ceil())
    model:add(cudnn.SpatialConvolution(8, 8, 3, 3, 1, 1, 1, 1, 2))
    model:add(nn.SpatialAveragePooling(3, 3, 1, 1, 1, 1):setCountExcludePad())
    model:add(nn.SpatialCrossMapLRN(3))
    model:add(nn.SpatialFullConvolution(8, 4, 2, 2, 2, 2))
    model:add(nn.SpatialReflectionPadding(1, 1, 1, 1))
    model:add(nn.SpatialAdaptiveMaxPooling(3, 3))
    model:add(nn.SpatialSoftMax())
    model:evaluate()
    """)
    x = rnd((2, 3, 9, 9))
    before = forward(cudnn, x, "model")
    cudnn.execute("copy = torch.deserialize(torch.serialize(model))")
    assert cudnn.eval("torch.type(copy.modules[4])") == "cudnn.SpatialConvolution"
    np.testing.assert_allclose(forward(cudnn, x, "copy"), before, rtol=1e-12)


def test_old_file_fields_through_serialization(lua):
    """Fields as older Torch7 versions wrote them, read back from the binary format."""
    lua.execute("""
    conv = nn.SpatialConvolutionMM(3, 4, 3, 3, 1, 1, 1, 1)
    pool = nn.SpatialMaxPooling(2, 2, 2, 2)
    avg = nn.SpatialAveragePooling(2, 2, 2, 2)
    model = nn.Sequential():add(conv):add(pool):add(avg)
    """)
    x = rnd((1, 3, 8, 8))
    before = forward(lua, x, "model")
    lua.execute("""
    conv.weight = conv.weight:view(4, 27); conv.padding = 1; conv.padW = nil; conv.padH = nil
    pool.ceil_mode = nil; pool.padW = nil; pool.padH = nil
    avg.ceil_mode = nil; avg.count_include_pad = nil; avg.padW = nil; avg.padH = nil
    old = torch.deserialize(torch.serialize(model))
    """)
    np.testing.assert_allclose(forward(lua, x, "old"), before, rtol=1e-12)


def test_local_normalization_kernel_fields(lua):
    """As in Torch7, constructors normalise the kernel in place."""
    lua["k"] = np.ones((3, 3))
    build(lua, "nn.SpatialSubtractiveNormalization(2, k)")
    np.testing.assert_allclose(field(lua, "kernel"), np.full((3, 3), 1 / 18))
    lua["k"] = np.array([1.0, 2.0, 1.0])
    build(lua, "nn.SpatialDivisiveNormalization(4, k)")
    np.testing.assert_allclose(field(lua, "kernel"), np.array([1.0, 2.0, 1.0]) / 8)


# --- further volumetric and cudnn classes -----------------------------------------------

def test_volumetric_full_and_dilated_convolution(lua):
    build(lua, "nn.VolumetricFullConvolution(3, 2, 2, 3, 3, 1, 2, 2, 0, 1, 1, 0, 1, 0)")
    x = rnd((2, 3, 3, 4, 5))
    ref = numpy_ref.conv_transpose3d(x, field(lua, "weight"), field(lua, "bias"), stride=(1, 2, 2),
                                     padding=(0, 1, 1), output_padding=(0, 0, 1))
    both(lua, x, ref, np.float64)
    build(lua, "nn.VolumetricDilatedConvolution(3, 4, 2, 2, 3, 1, 1, 1, 1, 0, 1, 2, 3, 1)")
    x = rnd((2, 3, 6, 7, 8))
    ref = numpy_ref.conv3d(x, field(lua, "weight"), field(lua, "bias"), padding=(1, 1, 0),
                           dilation=(2, 1, 3))
    both(lua, x, ref, np.float64)


def test_more_cudnn_classes(cudnn):
    build(cudnn, "cudnn.SpatialDilatedConvolution(4, 6, 3, 3, 1, 1, 2, 2, 2, 2, 2)")
    x = rnd((2, 4, 8, 9))
    ref = numpy_ref.conv2d(x, field(cudnn, "weight"), field(cudnn, "bias"), padding=2, dilation=2,
                           groups=2)
    both(cudnn, x, ref, np.float64)
    build(cudnn, "cudnn.SpatialLogSoftMax()")
    both(cudnn, x, numpy_ref.log_softmax(x, 1), np.float64)
    v = rnd((2, 3, 4, 5, 6))
    build(cudnn, "cudnn.VolumetricSoftMax()")
    both(cudnn, v, numpy_ref.softmax(v, 1), np.float64)
    build(cudnn, "cudnn.VolumetricLogSoftMax()")
    both(cudnn, v, numpy_ref.log_softmax(v, 1), np.float64)
    build(cudnn, "cudnn.VolumetricAveragePooling(2, 2, 2)")
    both(cudnn, v, numpy_ref.avg_pool3d(v, 2), np.float64)
    build(cudnn, "cudnn.VolumetricFullConvolution(3, 2, 2, 2, 2, 2, 2, 2)")
    ref = numpy_ref.conv_transpose3d(v, field(cudnn, "weight"), field(cudnn, "bias"), stride=2)
    both(cudnn, v, ref, np.float64)


def test_max_unpooling(lua):
    """Encoder-decoder use (as in ENet/SegNet): unpooling reads the pooling's indices."""
    lua.execute("""
    pool = nn.SpatialMaxPooling(2, 2)
    model = nn.Sequential():add(pool):add(nn.MulConstant(2)):add(nn.SpatialMaxUnpooling(pool))
    """)
    x = rnd((2, 3, 8, 6))
    pooled, ind = numpy_ref.max_pool2d(x, 2, 2, return_indices=True)
    ref = numpy_ref.max_unpool2d(pooled * 2, ind, (8, 6))
    np.testing.assert_array_equal(forward(lua, x, "model"), ref)
    np.testing.assert_array_equal(np.array(lua.eval("pool.indices")), ind + 1)
    np.testing.assert_array_equal(forward(lua, x[0], "model"), ref[0])
    assert lua.eval("pool.iheight") == 8 and lua.eval("pool.iwidth") == 6
    lua.execute("copy = torch.deserialize(torch.serialize(model))")
    np.testing.assert_array_equal(forward(lua, x, "copy"), ref)


def test_cudnn_convert_round_trip(cudnn):
    """cudnn.convert swaps nn and cudnn classes field for field; the output stays."""
    cudnn.execute("""
    model = nn.Sequential():add(nn.SpatialConvolution(3, 4, 3, 3, 1, 1, 1, 1))
       :add(nn.SpatialBatchNormalization(4)):add(nn.SpatialMaxPooling(2, 2))
       :add(nn.SpatialAveragePooling(2, 2)):add(nn.SpatialCrossMapLRN(3))
       :add(nn.SpatialSoftMax()):evaluate()
    gpu = cudnn.convert(model:clone(), cudnn)
    back = cudnn.convert(gpu:clone(), nn)
    """)
    assert cudnn.eval("torch.type(gpu.modules[1])") == "cudnn.SpatialConvolution"
    assert cudnn.eval("torch.type(back.modules[3])") == "nn.SpatialMaxPooling"
    x = rnd((2, 3, 8, 8))
    ref = forward(cudnn, x, "model")
    np.testing.assert_allclose(forward(cudnn, x, "gpu"), ref, rtol=1e-12)
    np.testing.assert_allclose(forward(cudnn, x, "back"), ref, rtol=1e-12)


def test_max_unpooling_attached_after_a_forward(lua):
    """Indices the pooling's forward skipped are computed from its (still alive) input."""
    lua.execute("pool = nn.SpatialMaxPooling(2, 2)")
    x = rnd((1, 2, 4, 4))
    lua["x"] = x
    lua.execute("pooled = pool:forward(x); unpool = nn.SpatialMaxUnpooling(pool)")
    out = np.array(lua.eval("unpool:forward(pooled)"))
    pooled, ind = numpy_ref.max_pool2d(x, 2, 2, return_indices=True)
    np.testing.assert_array_equal(out, numpy_ref.max_unpool2d(pooled, ind, (4, 4)))
