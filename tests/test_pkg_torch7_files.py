"""The new package classes read from files laid out as Torch7 wrote them: each object holds
the fields its package's constructor (and, for GPU models, cunn/cunnx's :cuda()) left, the
tensors as CudaTensors where a GPU model had them. The files are written by tests/t7craft.py
(which shares no code with sparktorch7); load_model requires the package the class needs by
itself; the forward is compared with NumPy."""
import math

import numpy as np
import pytest

import t7craft as c
from sparktorch7 import LuaState
from sparktorch7.model import load_model

CUDA = "torch.CudaTensor"


def tensor(arr, name=CUDA, fmt=None):
    a = np.ascontiguousarray(arr)
    storage = name.replace("Tensor", "Storage")
    if a.size == 0:
        return c.Tensor(name, [], storage=None)
    return c.Tensor(name, list(a.shape), storage=c.Storage(storage, a.ravel().tolist()))


def module(typename, **fields):
    base = dict(output=tensor(np.zeros(0)), gradInput=tensor(np.zeros(0)), train=False, _type=CUDA)
    base.update(fields)
    return c.Obj(typename, base)


def save(tmp_path, obj, name="m.t7"):
    path = tmp_path / name
    path.write_bytes(c.dumps(obj))
    return str(path)


def test_dpnn_binary_convolution_from_a_gpu_model(tmp_path):
    rng = np.random.default_rng(0)
    w = rng.standard_normal((4, 3, 3, 3)).astype(np.float32)
    m = module("nn.SpatialBinaryConvolution", nInputPlane=3, nOutputPlane=4, kW=3, kH=3, dW=1, dH=1, padW=1, padH=1,
               weight=tensor(w), gradWeight=tensor(np.zeros_like(w)), iwh=27, owh=36,
               tempWeight=tensor(w), alphas=tensor(np.abs(w).reshape(4, -1).mean(1)),
               gradInputAlphas=tensor(np.zeros(3)), wmask=tensor(np.zeros(w.shape)),
               _tempAlphas=tensor(np.zeros(0)), _tempAlphasExpanded=tensor(np.zeros(0)),
               _tempAlphasSamples=tensor(np.zeros(0)))
    model = load_model(save(tmp_path, m))
    x = rng.standard_normal((2, 3, 5, 6)).astype(np.float32)
    out = model.forward(x)
    xp = np.pad(x.astype(np.float64), ((0, 0), (0, 0), (1, 1), (1, 1)))
    win = np.lib.stride_tricks.sliding_window_view(xp, (3, 3), axis=(2, 3))
    ref = np.einsum("bchwij,ocij->bohw", win, np.where(w >= 0, 1.0, -1.0)) * np.abs(w).reshape(4, -1).mean(1)[None, :, None, None]
    np.testing.assert_allclose(out, ref, rtol=1e-5, atol=1e-5)


def test_nnx_spatial_linear_and_color_transform(tmp_path):
    rng = np.random.default_rng(1)
    w, b = rng.standard_normal((2, 3)), rng.standard_normal(2)
    D = "torch.DoubleTensor"
    lin = module("nn.SpatialLinear", fanin=3, fanout=2, weightDecay=0, weight=tensor(w, D), bias=tensor(b, D),
                 gradWeight=tensor(np.zeros((2, 3)), D), gradBias=tensor(np.zeros(2), D),
                 output=tensor(np.zeros((2, 1, 1)), D), gradInput=tensor(np.zeros((3, 1, 1)), D), _type=D)
    x = rng.random((3, 4, 5))
    out = load_model(save(tmp_path, lin)).forward(x)
    np.testing.assert_allclose(out, np.einsum("oi,ihw->ohw", w, x) + b[:, None, None], rtol=1e-12)
    yuv = np.array([[0.299, 0.587, 0.114], [-0.14713, -0.28886, 0.436], [0.615, -0.51499, -0.10001]])
    inner = module("nn.SpatialLinear", fanin=3, fanout=3, weightDecay=0, weight=tensor(yuv, D),
                   bias=tensor(np.zeros(3), D), gradWeight=tensor(np.zeros((3, 3)), D),
                   gradBias=tensor(np.zeros(3), D), output=tensor(np.zeros(0), D), _type=D)
    ct = module("nn.SpatialColorTransform", transform="rgb2yuv", islinear=True, linear=inner,
                usage="nn.SpatialColorTransform(...)", output=tensor(np.zeros(0), D), _type=D)
    out = load_model(save(tmp_path, ct, "ct.t7")).forward(x)
    np.testing.assert_allclose(out, np.einsum("oi,ihw->ohw", yuv, x), rtol=1e-12)


def test_nnx_soft_max_tree_from_cunnx(tmp_path):
    """A SoftMaxTree cunnx converted: CudaTensor weights, the tree's index tensors kept as
    IntTensors beside their Cuda copies, its update buffers."""
    rng = np.random.default_rng(2)
    # root 1 -> {2, 3}; 2 -> {4, 5, 6}: rows 1-2 for the root's children, 3-5 for node 2's
    W, b = rng.standard_normal((5, 4)).astype(np.float32), rng.standard_normal(5).astype(np.float32)
    I = "torch.IntTensor"
    pc = np.array([[1, 2], [3, 3]], dtype=np.int32)
    cp = np.array([[-1, -1], [1, 1], [1, 2], [2, 1], [2, 2], [2, 3]], dtype=np.int32)
    m = module("nn.SoftMaxTree", inputSize=4, rootId=1, nChildNode=5, nParentNode=2, minNodeId=1, maxNodeId=6,
               maxParentId=2, maxChildId=6, maxFamily=3, maxFamilyPath=5, maxDept=2,
               weight=tensor(W), bias=tensor(b), gradWeight=tensor(np.zeros_like(W)), gradBias=tensor(np.zeros(5)),
               childIds=tensor(np.array([2, 3, 4, 5, 6], np.int32), I), parentIds=tensor(np.array([1, 2], np.int32), I),
               parentChildren=tensor(pc, I), childParent=tensor(cp, I),
               parentChildrenCuda=tensor(pc.astype(np.float32)), childParentCuda=tensor(cp.astype(np.float32)),
               _nodeUpdateHost=tensor(np.zeros(0, np.int32), I), _nodeUpdateCuda=tensor(np.zeros(0), "torch.CudaIntTensor"),
               updates={}, batchSize=0, static=True, _nodeBuffer=tensor(np.zeros(0)), _multiBuffer=tensor(np.zeros(0)),
               _gradInput=tensor(np.zeros(0)), _gradTarget=tensor(np.zeros(0)))
    path = save(tmp_path, m)
    x = rng.standard_normal((3, 4)).astype(np.float32)
    targets = np.array([3, 4, 6], dtype=np.int32)
    lua = LuaState()
    lua.execute("require 'torch'")                 # torch.load requires nnx itself
    out = lua.eval("function(path, x, t) local m = torch.load(path); m:evaluate(); "
                   "return m:forward({x, t}) end")(path, x, targets)
    lua.close()

    def logsm(z):
        return z - z.max() - math.log(np.exp(z - z.max()).sum())

    xd, Wd, bd = x.astype(np.float64), W.astype(np.float64), b.astype(np.float64)
    ref = []
    for xi, t in zip(xd, targets):
        root = logsm(Wd[0:2] @ xi + bd[0:2])
        if t == 3:
            ref.append(root[1])
        else:
            ref.append(root[0] + logsm(Wd[2:5] @ xi + bd[2:5])[t - 4])
    np.testing.assert_allclose(out, ref, atol=1e-4)          # TH's approximate exp, in float


def test_inn_stochastic_pooling_from_a_gpu_model(tmp_path):
    m = module("inn.SpatialStochasticPooling", kW=2, kH=2, dW=2, dH=2, padW=0, padH=0, ceil_mode=False,
               indices=tensor(np.zeros((1, 1, 1, 1))))
    x = np.random.default_rng(3).random((2, 4, 5)).astype(np.float32) + 0.1
    out = load_model(save(tmp_path, m)).forward(x)
    ref = np.zeros((2, 2, 3))
    for ph in range(2):
        for pw in range(3):
            win = x[:, ph * 2:ph * 2 + 2, pw * 2:min(pw * 2 + 2, 5)].astype(np.float64).reshape(2, -1)
            ref[:, ph, pw] = (win ** 2).sum(1) / win.sum(1)
    np.testing.assert_allclose(out, ref, rtol=1e-5)
