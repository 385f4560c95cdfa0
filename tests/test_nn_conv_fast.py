"""The fast convolution paths against the plain references (tests/numpy_ref.py).

Covers the 1x1 convolution without im2col, the one-sample GEMM straight into the
output, the per-thread scratch buffers reused across calls of other sizes, cudnn.ReLU's
numpy path, and SpatialBatchNormalization folded into the convolution before it in an
evaluation-mode nn.Sequential (outputs, fields left alone, invalidation).
"""
import threading

import numpy as np
import pytest

import numpy_ref
from sparktorch7 import _nn_ops as ops

DTYPES = [np.float32, np.float64]
TOL = {np.float32: dict(rtol=1e-4, atol=1e-5), np.float64: dict(rtol=1e-10, atol=1e-12)}


def rnd(shape, dtype, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


def conv(x, w, b, stride=1, pad=0, dil=1, groups=1):
    """ops.conv2d into a NaN-filled output; returns it."""
    k = w.shape[2:]
    n = x.shape[:-3]
    oh = (x.shape[-2] + 2 * pad - dil * (k[0] - 1) - 1) // stride + 1
    ow = (x.shape[-1] + 2 * pad - dil * (k[1] - 1) - 1) // stride + 1
    out = np.full(n + (w.shape[0], oh, ow), np.nan, x.dtype)
    ops.conv2d(out, x, w, b, k[1], k[0], stride, stride, pad, pad, dil, dil, groups)
    return out


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("stride", [1, 2, 3])
@pytest.mark.parametrize("groups", [1, 2])
@pytest.mark.parametrize("batch", [None, 1, 3])
@pytest.mark.parametrize("bias", [True, False])
def test_pointwise_conv(dtype, stride, groups, batch, bias):
    shape = (4, 9, 7) if batch is None else (batch, 4, 9, 7)
    x = rnd(shape, dtype)
    w, b = rnd((6, 4 // groups, 1, 1), dtype, 1), rnd((6,), dtype, 2)
    out = conv(x, w, b if bias else None, stride, groups=groups)
    ref = numpy_ref.conv2d(x, w, b if bias else None, stride, 0, 1, groups)
    np.testing.assert_allclose(out, ref, **TOL[dtype])


@pytest.mark.parametrize("dtype", DTYPES)
def test_pointwise_conv_noncontiguous_input(dtype):
    x = rnd((2, 7, 5, 4), dtype).transpose(0, 1, 3, 2)  # (2, 7, 4, 5), not contiguous
    w, b = rnd((3, 7, 1, 1), dtype, 1), rnd((3,), dtype, 2)
    np.testing.assert_allclose(conv(x, w, b), numpy_ref.conv2d(x, w, b), **TOL[dtype])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("k,stride,pad,dil,groups", [
    (3, 1, 1, 1, 1), (3, 2, 1, 1, 1), (5, 3, 2, 1, 1), (3, 1, 2, 2, 1), (3, 1, 1, 1, 3),
    (2, 2, 0, 1, 1), (1, 1, 1, 1, 1), (7, 2, 3, 1, 1)])
@pytest.mark.parametrize("batch", [None, 1, 4])
@pytest.mark.parametrize("transposed_gemm", [True, False])
def test_conv_paths(dtype, k, stride, pad, dil, groups, batch, transposed_gemm, monkeypatch):
    # odd sizes; batch None / 1 take the straight-into-output GEMM, or with many
    # columns the transposed one
    monkeypatch.setattr(ops, "_GEMM_T", transposed_gemm)
    shape = (6, 11, 13) if batch is None else (batch, 6, 11, 13)
    x = rnd(shape, dtype)
    w, b = rnd((9, 6 // groups, k, k), dtype, 1), rnd((9,), dtype, 2)
    out = conv(x, w, b, stride, pad, dil, groups)
    np.testing.assert_allclose(out, numpy_ref.conv2d(x, w, b, stride, pad, dil, groups),
                               **TOL[dtype])


def test_row_bands_with_scratch(monkeypatch):
    # a budget below one sample's windows: row bands of one sample, into a
    # non-contiguous slice of the output (the transposing pass)
    monkeypatch.setattr(ops, "_COLS_BUDGET", 500)
    x = rnd((2, 3, 17, 10), np.float64)
    w, b = rnd((4, 3, 3, 3), np.float64, 1), rnd((4,), np.float64, 2)
    np.testing.assert_allclose(conv(x, w, b, 1, 1), numpy_ref.conv2d(x, w, b, 1, 1),
                               rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("dtype", DTYPES)
def test_scratch_reuse_across_sizes(dtype):
    # big then small then big again: the reused buffers leave nothing stale behind
    w, b = rnd((5, 3, 3, 3), dtype, 1), rnd((5,), dtype, 2)
    for n, h, pad in [(4, 20, 2), (1, 6, 1), (3, 9, 0), (4, 20, 2), (2, 5, 3)]:
        x = rnd((n, 3, h, h + 1), dtype, n + h)
        np.testing.assert_allclose(conv(x, w, b, 1, pad), numpy_ref.conv2d(x, w, b, 1, pad),
                                   **TOL[dtype])


def test_scratch_is_per_thread():
    x = rnd((3, 4, 12, 12), np.float64)
    w = rnd((6, 4, 3, 3), np.float64, 1)
    want = numpy_ref.conv2d(x, w, None, 1, 1)
    errors = []

    def work(seed):
        try:
            for _ in range(20):
                np.testing.assert_allclose(conv(x, w, None, 1, 1), want, rtol=1e-10, atol=1e-12)
        except Exception as e:  # pragma: no cover - reported below
            errors.append(e)

    ts = [threading.Thread(target=work, args=(i,)) for i in range(3)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    assert not errors
    assert ops._scratch("cols", 10, np.float64).size == 10


def test_bn_fold_kernel():
    w, b = rnd((4, 3, 3, 3), np.float64, 1), rnd((4,), np.float64, 2)
    g, beta = rnd((4,), np.float64, 3), rnd((4,), np.float64, 4)
    mean, var = rnd((4,), np.float64, 5), np.abs(rnd((4,), np.float64, 6)) + 0.5
    fw, fb = np.empty_like(w), np.empty(4)
    ops.bn_fold(fw, fb, w, b, g, beta, mean, var, 1e-3)
    x = rnd((2, 3, 8, 8), np.float64, 7)
    y = numpy_ref.conv2d(x, w, b, 1, 1)
    s = (g / np.sqrt(var + 1e-3)).reshape(1, 4, 1, 1)
    want = (y - mean.reshape(1, 4, 1, 1)) * s + beta.reshape(1, 4, 1, 1)
    np.testing.assert_allclose(numpy_ref.conv2d(x, fw, fb, 1, 1), want, rtol=1e-10, atol=1e-12)


def test_same_bytes():
    a = np.array([0.0, np.nan, 1.0])
    assert ops.same_bytes(a, a.copy(), None, None, False, None)
    assert not ops.same_bytes(a, np.array([-0.0, np.nan, 1.0]))
    assert not ops.same_bytes(a, a.astype(np.float32))
    assert not ops.same_bytes(a, None)


# ----------------------------------------------------------------------------
# in the runtime: cudnn.ReLU, and BatchNormalization folding in nn.Sequential
# ----------------------------------------------------------------------------

NET = """
require 'cudnn'
torch.manualSeed(3)
local function bn(n)
   local b = cudnn.SpatialBatchNormalization(n, 1e-3)
   b.weight:uniform(0.5, 1.5); b.bias:uniform(-0.5, 0.5)
   b.running_mean:uniform(-0.5, 0.5); b.running_var:uniform(0.5, 1.5)
   return b
end
local c1 = cudnn.SpatialConvolution(3, 8, 3, 3, 1, 1, 1, 1); c1.bias = nil
local c2 = nn.SpatialConvolution(8, 8, 1, 1, 2, 2)
local m = nn.Sequential():add(c1):add(bn(8)):add(cudnn.ReLU(true)):add(c2):add(bn(8))
model = m:type(TYPE):evaluate()
fold = require 'nn.batchnorm_fold'
function run(x, enabled)
   fold.enabled = enabled
   local y = model:forward(x):clone()
   fold.enabled = false
   return y
end
"""


def net(lua, dtype):
    lua.require("nn")
    lua["TYPE"] = "torch.FloatTensor" if dtype == np.float32 else "torch.DoubleTensor"
    lua.execute(NET)
    return lua.eval("run")


def plain_reference(lua, x):
    """The model's output from its fields, computed with numpy_ref and Torch7's
    formulas (BatchNormalization in evaluation mode)."""
    y = x.astype(np.float64)
    for i in range(1, 6):
        m = lua.eval(f"model.modules[{i}]")
        kind = lua.eval(f"torch.type(model.modules[{i}])")
        if kind.endswith("Convolution"):
            b = lua.eval(f"model.modules[{i}].bias")
            y = numpy_ref.conv2d(y, np.array(m.weight, np.float64),
                                 None if b is None else np.array(b, np.float64),
                                 int(m.dW), int(m.padW))
        elif kind.endswith("BatchNormalization"):
            sh = (1, -1, 1, 1)
            y = ((y - np.array(m.running_mean).reshape(sh))
                 / np.sqrt(np.array(m.running_var).reshape(sh) + float(m.eps))
                 * np.array(m.weight).reshape(sh) + np.array(m.bias).reshape(sh))
        else:
            y = np.maximum(y, 0)
    return y


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("batch", [None, 1, 5])
def test_folded_equals_unfolded_and_reference(lua, dtype, batch):
    run = net(lua, dtype)
    x = rnd((3, 10, 9) if batch is None else (batch, 3, 10, 9), dtype)
    plain = np.array(run(x, False))
    folded = np.array(run(x, True))
    assert folded.dtype == dtype
    np.testing.assert_allclose(folded, plain, **TOL[dtype])
    np.testing.assert_allclose(folded, plain_reference(lua, x).reshape(folded.shape), **TOL[dtype])


def test_fold_leaves_fields_untouched(lua):
    run = net(lua, np.float64)
    fields = ["modules[1].weight", "modules[2].running_mean", "modules[2].running_var",
              "modules[2].weight", "modules[2].bias", "modules[4].weight", "modules[4].bias"]
    before = {f: np.array(lua.eval("model." + f)).copy() for f in fields}
    ids = {f: lua.eval(f"torch.pointer(model.{f})") for f in fields}
    run(rnd((2, 3, 6, 6), np.float64), True)
    for f in fields:
        np.testing.assert_array_equal(np.array(lua.eval("model." + f)), before[f])
        assert lua.eval(f"torch.pointer(model.{f})") == ids[f]
    assert lua.eval("model.modules[1].bias") is None
    assert lua.eval("model.modules[1].weight:dim()") == 4


def test_fold_happens_only_when_worth_it(lua):
    run = net(lua, np.float64)
    shared = "rawequal(model.modules[1].output, model.modules[2].output)"
    run(rnd((2, 3, 7, 7), np.float64), True)
    assert lua.eval(shared)             # folded: the BN's output is the conv's
    run(rnd((2, 3, 7, 7), np.float64), False)
    assert not lua.eval(shared)         # unfolded: each module has its own again
    lua.execute("fold.minRatio = 1e9")  # the check of the weights would cost more
    x = rnd((2, 3, 7, 7), np.float64)
    y = np.array(run(x, True))
    assert not lua.eval(shared)
    np.testing.assert_allclose(y, plain_reference(lua, x), rtol=1e-10, atol=1e-12)


def test_changed_running_mean_invalidates_fold(lua):
    run = net(lua, np.float64)
    x = rnd((2, 3, 7, 7), np.float64)
    first = np.array(run(x, True))
    assert lua.eval("rawequal(model.modules[1].output, model.modules[2].output)")
    lua.execute("model.modules[2].running_mean:add(0.25)")   # in place, same tensor
    second = np.array(run(x, True))
    assert np.abs(second - first).max() > 1e-3
    np.testing.assert_allclose(second, np.array(run(x, False)), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(second, plain_reference(lua, x), rtol=1e-10, atol=1e-12)
    lua.execute("model.modules[1].weight:mul(2); model.modules[5].eps = 0.5")
    np.testing.assert_allclose(np.array(run(x, True)), plain_reference(lua, x),
                               rtol=1e-10, atol=1e-12)


def test_training_mode_is_not_folded(lua):
    run = net(lua, np.float64)
    x = rnd((4, 3, 6, 6), np.float64)
    lua.execute("model:training()")
    rm = np.array(lua.eval("model.modules[2].running_mean")).copy()
    y = np.array(run(x, True))
    # batch statistics (biased variance), then the in-place ReLU on the BN's output
    bn_out = np.array(lua.eval("model.modules[2].output"))
    conv_out = np.array(lua.eval("model.modules[1].output"))
    assert not np.shares_memory(bn_out, conv_out)
    mu = conv_out.mean(axis=(0, 2, 3), keepdims=True)
    var = conv_out.var(axis=(0, 2, 3), keepdims=True)
    sh = (1, -1, 1, 1)
    want = ((conv_out - mu) / np.sqrt(var + 1e-3)
            * np.array(lua.eval("model.modules[2].weight")).reshape(sh)
            + np.array(lua.eval("model.modules[2].bias")).reshape(sh))
    np.testing.assert_allclose(bn_out, np.maximum(want, 0), rtol=1e-10, atol=1e-12)
    assert np.abs(np.array(lua.eval("model.modules[2].running_mean")) - rm).max() > 0
    assert y.shape == (4, 8, 3, 3)


def test_outputs_resized_across_batches_no_stale_values(lua):
    run = net(lua, np.float32)
    for shape in [(6, 3, 12, 11), (1, 3, 5, 5), (3, 10, 9), (2, 3, 12, 11)]:
        x = rnd(shape, np.float32, sum(shape))
        y = np.array(run(x, True))
        np.testing.assert_allclose(y, plain_reference(lua, x).reshape(y.shape), **TOL[np.float32])


@pytest.mark.parametrize("inplace", [True, False])
def test_cudnn_relu_numpy_path(lua, inplace):
    lua.require("nn")
    lua.require("cudnn")
    x = rnd((4, 8, 40, 40), np.float32)  # 51200 elements: the numpy path
    x[0, 0, 0, :3] = [0.0, -0.0, np.nan]
    lua["x"] = x.copy()
    lua.execute(f"r = cudnn.ReLU({'true' if inplace else 'false'}); "
                "xt = torch.FloatTensor(x:size()):copy(x); y = r:forward(xt)")
    y = np.array(lua.eval("y"))
    want = np.where(x > 0, x, np.float32(0))
    np.testing.assert_array_equal(y, want)
    assert lua.eval("rawequal(y, xt)") == inplace


def test_no_fold_unless_asked(lua):
    # by default each module keeps its own output, as in Torch7 (feature extraction reads them)
    net(lua, np.float64)
    x = rnd((2, 3, 7, 7), np.float64)
    lua.eval("function(x) return model:forward(x) end")(x)
    assert lua.eval("require('nn.batchnorm_fold').enabled") is False
    assert not lua.eval("rawequal(model.modules[1].output, model.modules[2].output)")
    conv_only = lua.eval("function(x) return model.modules[1]:clone():forward(x) end")(x)
    np.testing.assert_allclose(np.array(lua.eval("model.modules[1].output")), conv_only, rtol=1e-12)
