"""The declared field schemas of the nn classes (lua/nn/schema.lua): a module read from a
file whose fields do not fit its class raises T7FormatError naming the class, the field,
what was expected and what the file holds. The files are written by this runtime's
torch.save from modules built in Lua and then tampered with (a field replaced, removed or
resized), or written with a class's write hook replaced."""
import glob
import json
import os
import re
import subprocess
import sys

import numpy as np
import pytest

import sparktorch7 as st
from sparktorch7 import LuaError, T7FormatError
from sparktorch7.model import load_model
from schema_helpers import craft, expect, load_error

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
LUA = os.path.join(ROOT, "sparktorch7", "lua")
FIXTURES = os.path.join(ROOT, "..", "shared", "fixtures")
MNIST = os.path.join(FIXTURES, "t7", "models", "mnist_mlp_cuda.t7")
GMODULE = os.path.join(FIXTURES, "t7", "torchfile", "gmodule_with_linear_identity.t7")

REQUIRES = "require 'nn'; require 'nngraph'; require 'cudnn'"


@pytest.fixture
def nnlua(lua):
    lua.execute(REQUIRES)
    return lua


# ---------------------------------------------------------------- the cases of the issue
def test_linear_bias_smaller_than_its_output_size(nnlua, tmp_path):
    msg = load_error(nnlua, tmp_path, "local m = nn.Linear(1, 4000); m.bias = torch.FloatTensor(1); return m")
    expect(msg, "nn.Linear.bias: expected a tensor of size 4000 (outputSize = weight:size(1))",
           "the file holds a torch.FloatTensor of size 1", "byte offset")
    assert issubclass(T7FormatError, ValueError)


def test_batch_normalization_weight_smaller_than_its_features(nnlua, tmp_path):
    msg = load_error(nnlua, tmp_path,
                     "local m = nn.BatchNormalization(300); m.weight = torch.Tensor(1); return m")
    expect(msg, "nn.BatchNormalization.weight: expected a tensor of 300 elements",
           "running_mean:nElement()", "torch.DoubleTensor of size 1")


@pytest.mark.parametrize("field, value, expected", [
    ("weight", "3", "expected a tensor, the file holds the number 3"),
    ("weight", "'w'", 'expected a tensor, the file holds the string "w"'),
    ("weight", "{}", "expected a tensor, the file holds a table"),
    ("weight", "nil", "expected a tensor, the file holds nothing (the field is missing)"),
    ("weight", "torch.Tensor(12)", "expected a tensor of 2 dimensions"),
    ("bias", "true", "nn.Linear.bias: expected a tensor (or nothing), the file holds the boolean true"),
    ("output", "'x'", "nn.Linear.output: expected a tensor or a table (or nothing)"),
    ("train", "1", "nn.Linear.train: expected a boolean (or nothing), the file holds the number 1"),
    ("_type", "{}", "nn.Linear._type: expected a string"),
])
def test_linear_fields_of_the_wrong_type(nnlua, tmp_path, field, value, expected):
    msg = load_error(nnlua, tmp_path, f"local m = nn.Linear(3, 4); m.{field} = {value}; return m")
    expect(msg, f"nn.Linear.{field}: ", expected)


def test_fields_that_are_not_a_table(nnlua, tmp_path):
    # what made Module.lua's read fail with "bad argument #1 to 'pairs'": the class's write
    # hook is replaced while saving, so that the file holds a number for the fields
    path = str(tmp_path / "f.t7")
    nnlua.eval("""function(path)
        local m = nn.Linear(3, 4)
        local write = nn.Linear.write
        nn.Linear.write = function(self, file) file:writeObject(12) end
        local ok, err = pcall(torch.save, path, m)
        nn.Linear.write = write
        assert(ok, err)
    end""")(path)
    with pytest.raises(T7FormatError, match=r"nn\.Linear: expected a table of fields, the file holds the number 12"):
        load_model(path, state=nnlua)


def test_a_field_hiding_a_method(nnlua, tmp_path):
    msg = load_error(nnlua, tmp_path, "local m = nn.Linear(3, 4); m.forward = 7; return m")
    expect(msg, "nn.Linear.forward: expected no field named like the method forward", "the number 7")


# ---------------------------------------------------------------- sizes and numbers
@pytest.mark.parametrize("field, value, expected", [
    ("kW", "-3", "nn.SpatialConvolution.kW: expected an integer >= 1 (below 2^31), the file holds the number -3"),
    ("kW", "2.5", "the number 2.5"),
    ("kW", "2^40", "the number 1099511627776"),
    ("kW", "0/0", "the number nan"),
    ("nOutputPlane", "nil", "nn.SpatialConvolution.nOutputPlane: expected an integer >= 1"),
    ("dH", "'1'", 'the string "1"'),
    ("padW", "-1", "nn.SpatialConvolution.padW: expected an integer >= 0 (below 2^31) (or nothing)"),
    ("padding", "1.5", "nn.SpatialConvolution.padding: expected an integer >= 0"),
    ("weight", "torch.Tensor(8, 3, 3, 2)",
     "nn.SpatialConvolution.weight: expected a tensor of 216 elements (nOutputPlane * (nInputPlane / groups) * kH * kW), "
     "the file holds a torch.DoubleTensor of size 8x3x3x2 (144 elements)"),
    ("bias", "torch.Tensor(7)", "nn.SpatialConvolution.bias: expected a tensor of 8 elements (nOutputPlane)"),
    ("groups", "2", "nn.SpatialConvolution.groups: expected nInputPlane % groups + nOutputPlane % groups == 0, "
                    "the file holds the number 2"),
])
def test_convolution_sizes(nnlua, tmp_path, field, value, expected):
    msg = load_error(nnlua, tmp_path,
                     f"local m = nn.SpatialConvolution(3, 8, 3, 3); m.{field} = {value}; return m")
    expect(msg, expected)


def test_a_class_borrowing_a_forward_has_its_fields(nnlua, tmp_path):
    # nn.SpatialConvolutionMM is not a subclass of nn.SpatialConvolution but runs its forward
    msg = load_error(nnlua, tmp_path,
                     "local m = nn.SpatialConvolutionMM(3, 4, 3, 3); m.bias = torch.Tensor(1); return m")
    expect(msg, "nn.SpatialConvolutionMM.bias: expected a tensor of 4 elements (nOutputPlane)")


def test_an_old_gradient_that_backCompatibility_would_reshape(nnlua, tmp_path):
    msg = load_error(nnlua, tmp_path,
                     "local m = nn.SpatialConvolution(3, 4, 3, 3); m.gradWeight = torch.Tensor(7, 9); return m")
    expect(msg, "nn.SpatialConvolution.gradWeight: expected a 2-D tensor of 108 elements, as many as weight")


def test_convolution_legacy_layouts_still_load(nnlua, tmp_path):
    # old Torch7 files: one `padding`, a 2-D weight nOutputPlane x (nInputPlane*kH*kW)
    path = craft(nnlua, str(tmp_path / "c.t7"), """
        local m = nn.SpatialConvolution(3, 8, 3, 3, 1, 1, 1, 1)
        m.padding, m.padW, m.padH = 1, nil, nil
        m.weight = m.weight:view(8, 27):clone()
        return m""")
    model = load_model(path, state=nnlua)
    x = np.random.RandomState(0).rand(1, 3, 5, 5)
    assert model.forward(x).shape == (1, 8, 5, 5)
    assert nnlua.eval("function(m) return m.padW, m.padH, m.weight:dim() end")(model.module) == (1, 1, 4)


@pytest.mark.parametrize("build, shape, out_shape", [
    ("local m = nn.Padding(2, 1); m.index, m.value = nil, nil; return m", (2, 3), (2, 4)),
    ("local m = nn.Normalize(2); m.eps = nil; return m", (2, 3), (2, 3)),
    ("local m = nn.Mean(2); m.dimension = nil; return m", (2, 3), (3,)),
    ("local m = nn.SpatialConvolution(2, 3, 3, 3); m.padW, m.padH = nil, nil; return m", (1, 2, 4, 4), (1, 3, 2, 2)),
    ("local m = nn.SpatialFullConvolution(2, 3, 3, 3); m.adjW, m.adjH = nil, nil; return m", (1, 2, 2, 2), (1, 3, 4, 4)),
    ("local m = nn.SpatialMaxPooling(2, 2); m.padW, m.padH, m.ceil_mode = nil, nil, nil; return m",
     (1, 2, 4, 4), (1, 2, 2, 2)),
    ("local m = nn.Dropout(0.5); m.v2 = nil; m:evaluate(); return m", (2, 3), (2, 3)),
    ("local m = nn.LookupTable(5, 2); m.shouldScaleGradByFreq = nil; return m", None, None),
    ("local m = nn.Sequential():add(nn.Tanh()); m.modules = nil; return m", (2, 3), (2, 3)),
])
def test_fields_older_files_lack_still_load(nnlua, tmp_path, build, shape, out_shape):
    path = craft(nnlua, str(tmp_path / "old.t7"), build)
    model = load_model(path, state=nnlua)
    if shape is not None:
        assert model.forward(np.ones(shape)).shape == out_shape


def test_batch_normalization_version_1_still_loads(nnlua, tmp_path):
    path = craft(nnlua, str(tmp_path / "bn.t7"), """
        local m = nn.BatchNormalization(4)
        m.running_std = torch.Tensor(4):fill(0.5); m.running_var = nil
        return m""")
    model = load_model(path, state=nnlua)
    assert model.forward(np.zeros((2, 4))).shape == (2, 4)


@pytest.mark.parametrize("build, expected", [
    ("m.running_var = torch.Tensor(3)", "nn.BatchNormalization.running_var: expected a tensor of 4 elements"),
    ("m.running_var = nil", "nn.BatchNormalization.running_mean: expected a running_var tensor beside it"),
    ("m.running_mean = nil", "nn.BatchNormalization.running_mean: expected a tensor, the file holds nothing"),
    ("m.eps = 'small'", "nn.BatchNormalization.eps: expected a number"),
    ("m.bias = torch.Tensor(5)", "nn.BatchNormalization.bias: expected a tensor of 4 elements"),
    ("m.affine = 'yes'", "nn.BatchNormalization.affine: expected a boolean"),
])
def test_batch_normalization_fields(nnlua, tmp_path, build, expected):
    msg = load_error(nnlua, tmp_path, f"local m = nn.BatchNormalization(4); {build}; return m")
    expect(msg, expected)


@pytest.mark.parametrize("build, expected", [
    ("local m = nn.SpatialBatchNormalization(6); m.running_mean = torch.Tensor(2, 3); return m",
     "nn.SpatialBatchNormalization.running_mean: expected a tensor of 1 dimensions"),
    ("local m = nn.View(2, 3); m.size = torch.LongStorage({2, -2}); return m",
     "nn.View.size: expected sizes that are integers >= 0 or one -1, the file holds the number -2 at index 2"),
    ("local m = nn.View(2, 3); m.size = torch.LongStorage({-1, -1}); return m",
     "nn.View.size: expected sizes with at most one -1"),
    ("local m = nn.View(2, 3); m.size = {2, 3}; return m", "nn.View.size: expected a torch.LongStorage"),
    ("local m = nn.View(2, -1, 3); m.numElements = 7; return m",
     "nn.View.numElements: expected 6 (the product of the sizes that are not -1), the file holds the number 7"),
    ("local m = nn.Reshape(2, 3); m.size = torch.LongStorage({2, -3}); return m",
     "nn.Reshape.size: expected sizes that are integers >= 0"),
    ("local m = nn.Transpose({1, 2}); m.permutations = {{1, 'x'}}; return m",
     "nn.Transpose.permutations: expected a list of pairs {dim1, dim2}"),
    ("local m = nn.Dropout(0.5); m.p = 2; return m", "nn.Dropout.p: expected a number <= 1"),
    ("local m = nn.Dropout(0.5); m.p = 'half'; return m", "nn.Dropout.p: expected a number"),
    ("local m = nn.Threshold(0, 0); m.threshold = {}; return m", "nn.Threshold.threshold: expected a number"),
    ("local m = nn.ReLU(); m.val = nil; return m", "nn.ReLU.val: expected a number, the file holds nothing"),
    ("local m = nn.SpatialMaxPooling(2, 2); m.kH = 0; return m", "nn.SpatialMaxPooling.kH: expected an integer >= 1"),
    ("local m = nn.SpatialZeroPadding(1, 1, 1, 1); m.pad_t = 0.5; return m",
     "nn.SpatialZeroPadding.pad_t: expected an integer"),
    ("local m = nn.Narrow(1, 2, 3); m.index = 'a'; return m", "nn.Narrow.index: expected an integer"),
    ("local m = nn.Replicate(3); m.nfeatures = -3; return m", "nn.Replicate.nfeatures: expected an integer >= 1"),
    ("local m = nn.PReLU(4); m.weight = torch.Tensor(2); return m",
     "nn.PReLU.weight: expected a tensor of 4 elements"),
    ("local m = nn.Add(5); m.bias = torch.Tensor(0); return m", "nn.Add.bias: expected bias:nElement() >= 1"),
    ("local m = nn.Mul(); m.weight = torch.Tensor(3); return m", "nn.Mul.weight: expected a tensor of 1 elements"),
    ("local m = nn.CMul(3, 4); m.weight = torch.Tensor(3, 5); return m",
     "nn.CMul.weight: expected a tensor of 12 elements (nSize = size:prod())"),
    ("local m = nn.WeightedEuclidean(3, 4); m.diagCov = torch.Tensor(4, 3); return m",
     "nn.WeightedEuclidean.diagCov: expected a tensor of size 3x4 (weight:size(1) x weight:size(2))"),
    ("local m = nn.Bilinear(2, 3, 4); m.bias = torch.Tensor(2); return m",
     "nn.Bilinear.bias: expected a tensor of size 4 (outputSize = weight:size(1))"),
    ("local m = nn.LookupTable(10, 3); m.weight = torch.Tensor(30); return m",
     "nn.LookupTable.weight: expected a tensor of 2 dimensions"),
    ("local m = nn.SparseLinear(10, 3); m.bias = torch.Tensor(4); return m",
     "nn.SparseLinear.bias: expected a tensor of size 3"),
    ("local m = nn.LinearWeightNorm(3, 4); m.g = torch.Tensor(4); return m",
     "nn.LinearWeightNorm.g: expected a tensor of size 4x1 (outputSize x 1)"),
    ("local m = nn.TemporalConvolution(3, 4, 2); m.weight = torch.Tensor(4, 5); return m",
     "nn.TemporalConvolution.weight: expected a tensor of 24 elements (outputFrameSize * inputFrameSize * kW)"),
    ("local m = nn.SpatialFullConvolution(3, 4, 2, 2); m.weight = torch.Tensor(4, 3, 2, 1); return m",
     "nn.SpatialFullConvolution.weight: expected a tensor of 48 elements"),
    ("local m = nn.VolumetricConvolution(2, 4, 2, 2, 2); m.kT = 1e300; return m",
     "nn.VolumetricConvolution.kT: expected an integer >= 1 (below 2^31)"),
    ("local m = nn.SpatialSubSampling(3, 2, 2); m.weight = torch.Tensor(2); return m",
     "nn.SpatialSubSampling.weight: expected a tensor of 3 elements (nInputPlane)"),
    ("local m = nn.SpatialConvolutionMap(nn.tables.full(2, 3), 3, 3); m.connTable[2][1] = 9; return m",
     "nn.SpatialConvolutionMap.connTable: expected connections between input planes 1..2 and output planes 1..3, "
     "the file holds the connection {9, 1} at row 2"),
    ("local m = nn.PixelShuffle(2); m.upscaleFactorSquared = 5; return m",
     "nn.PixelShuffle.upscaleFactorSquared: expected upscaleFactorSquared == upscaleFactor * upscaleFactor"),
    ("local m = nn.OneHot(5); m.outputSize = 0; return m", "nn.OneHot.outputSize: expected an integer >= 1"),
    ("local m = nn.JoinTable(1); m.dimension = nil; return m", "nn.JoinTable.dimension: expected an integer"),
    ("local m = nn.MulConstant(2); m.constant_scalar = torch.Tensor(1); return m",
     "nn.MulConstant.constant_scalar: expected a number, the file holds a torch.DoubleTensor of size 1"),
    ("local m = cudnn.SpatialConvolution(4, 6, 3, 3, 1, 1, 0, 0, 2); m.groups = 4; return m",
     "cudnn.SpatialConvolution.groups: expected nInputPlane % groups + nOutputPlane % groups == 0"),
    ("local m = cudnn.SpatialCrossMapLRN(5); m.k = nil; return m",
     "cudnn.SpatialCrossMapLRN.size: expected a k (or, in older cudnn files, K) number beside it"),
    ("local m = cudnn.ClippedReLU(6); m.ceiling = 'six'; return m", "cudnn.ClippedReLU.ceiling: expected a number"),
    ("local m = cudnn.SoftMax(); m.mode = 3; return m", "cudnn.SoftMax.mode: expected a string"),
    ("local p = nn.SpatialMaxPooling(2, 2); local m = nn.SpatialMaxUnpooling(p); m.pooling = nn.Linear(2, 2); return m",
     "nn.SpatialMaxUnpooling.pooling: expected an nn.SpatialMaxPooling, the file holds a nn.Linear"),
    ("local m = nn.ClassNLLCriterion(); m.weights = 'w'; return m",
     "nn.ClassNLLCriterion.weights: expected a tensor (or nothing)"),
    ("local m = nn.ClassNLLCriterion(); m.weights = torch.Tensor(2, 2); return m",
     "nn.ClassNLLCriterion.weights: expected a tensor of 1 dimensions"),
    ("local m = nn.MultiMarginCriterion(); m.p = nil; return m",
     "nn.MultiMarginCriterion.p: expected a number, the file holds nothing"),
    ("local m = nn.CrossEntropyCriterion(); m.nll = nn.Linear(2, 2); return m",
     "nn.CrossEntropyCriterion.nll: expected an nn criterion, the file holds a nn.Linear"),
    ("local m = nn.MSECriterion(); m.sizeAverage = 'no'; return m", "nn.MSECriterion.sizeAverage: expected a boolean"),
])
def test_fields_of_the_families(nnlua, tmp_path, build, expected):
    path = craft(nnlua, str(tmp_path / "m.t7"), build)
    with pytest.raises(T7FormatError) as info:
        nnlua.eval("function(p) return torch.load(p) end")(path)
    expect(str(info.value), expected, "byte offset", "m.t7")


# ---------------------------------------------------------------- containers
@pytest.mark.parametrize("build, expected", [
    ("local m = nn.Sequential():add(nn.Linear(2, 2)); m.modules = 5; return m",
     "nn.Sequential.modules: expected a list of nn modules (or nothing), the file holds the number 5"),
    ("local m = nn.Sequential():add(nn.Linear(2, 2)); m.modules[2] = 'relu'; return m",
     'nn.Sequential.modules: expected a list of nn modules (or nothing), the file holds the string "relu" at index 2'),
    ("local m = nn.Sequential():add(nn.Linear(2, 2)); m.modules.extra = nn.ReLU(); return m",
     'the file holds a table with the key string "extra"'),
    ("local m = nn.Sequential():add(nn.Linear(2, 2)); m.modules[3] = nn.ReLU(); return m",
     "the file holds a table with no entry at index 2 (not a list 1..2)"),
    ("local m = nn.Sequential():add(nn.Linear(2, 2)); m.modules[2] = m; return m",
     "nn.Sequential.modules: expected a tree of modules, the file holds a container that contains itself"),
    ("local m = nn.Sequential(); local c = nn.ConcatTable():add(nn.Sequential():add(m)); m:add(c); return m",
     "nn.Sequential.modules: expected a tree of modules"),
    ("local m = nn.Concat(2):add(nn.Linear(2, 2)); m.dimension = 'x'; return m",
     "nn.Concat.dimension: expected an integer"),
    ("local m = nn.Bottle(nn.Linear(2, 2)); m.modules[2] = nn.ReLU(); return m",
     "nn.Bottle.modules: expected a list of one module (the decorated one), the file holds a list of 2 modules"),
    ("local m = nn.DataParallelTable(1):add(nn.Linear(2, 2), {1}); m.modules = {}; return m",
     "nn.DataParallelTable.modules: expected a list of at least one module (its replicas), the file holds an empty list"),
    ("local m = nn.DataParallelTable(1):add(nn.Linear(2, 2), {1}); m.modules[1].weight = 5; return m",
     "nn.Linear.weight: expected a tensor, the file holds the number 5"),
    ("local m = nn.DataParallelTable(1):add(nn.Linear(2, 2), {1}); m.dimension = 'x'; return m",
     "nn.DataParallelTable.dimension: expected an integer"),
    ("local m = nn.Decorator(nn.Linear(2, 2)); m.modules = {}; return m",
     "nn.Decorator.modules: expected a list of one module"),
    ("local m = nn.Decorator(nn.Linear(2, 2)); m.module = m; m.modules = {m}; return m",
     "nn.Decorator.modules: expected a tree of modules"),
])
def test_container_fields(nnlua, tmp_path, build, expected):
    expect(load_error(nnlua, tmp_path, build), expected)


def test_cycles_are_refused_without_hanging():
    # a cycle through three containers and one through a decorator: the loads end in errors
    code = r"""
import json, sys, tempfile, os
import sparktorch7 as st
from sparktorch7.model import load_model
s = st.LuaState(); s.execute("require 'nn'")
out = []
for build in [
    "local a = nn.Sequential(); local b = nn.Sequential(); local c = nn.Parallel(1, 1);"
    " a:add(b); b:add(c); c:add(a); return a",
    "local a = nn.Sequential(); a:add(nn.Decorator(a)); return a",
    "local a = nn.ConcatTable(); a.modules = {a, a, a}; return a",
]:
    path = os.path.join(tempfile.mkdtemp(), 'c.t7')
    s.eval("function(p) local m = (function() " + build + " end)(); torch.save(p, m) end")(path)
    try:
        load_model(path, state=s); out.append('loaded')
    except Exception as e:
        out.append(type(e).__name__ + ': ' + str(e).splitlines()[0])
print(json.dumps(out))
"""
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                       env=dict(os.environ, PYTHONPATH=ROOT))
    assert r.returncode == 0, r.stderr
    results = json.loads(r.stdout.strip().splitlines()[-1])
    assert len(results) == 3
    for res in results:
        assert res.startswith("T7FormatError: "), res
        assert "expected a tree of modules" in res and "contains itself" in res


def test_gmodule_nodes(nnlua, tmp_path):
    base = """
        local x = nn.Identity()()
        local y = nn.Linear(3, 2)(x)
        local g = nn.gModule({x}, {y})
    """
    cases = [
        ("g.forwardnodes[2] = 5", "nn.gModule.forwardnodes: expected a list of nngraph nodes, the file holds the number 5"),
        ("g.forwardnodes[1].data = 'd'", "nn.gModule.forwardnodes: expected nodes whose data is a table"),
        ("g.forwardnodes[3].data.module = 'm'", "expected nodes whose data.module is an nn module"),
        ("g.forwardnodes[2].children = 1", "expected nodes whose children are a list"),
        ("g.forwardnodes[2].children[1].data.mapindex = 3", "expected children whose data.mapindex is a table"),
        ("g.innode = {}", "nn.gModule.innode: expected an nngraph.Node, the file holds a table"),
        ("local n = g.forwardnodes[2]; n.children[1].data.mapindex[n.data] = 'a'",
         "expected children whose data.mapindex gives the node's place among their inputs"),
        ("g.forwardnodes[2].data.nSplitOutputs = 'two'", "expected nodes whose data.nSplitOutputs is an integer >= 1"),
        ("g.forwardnodes[3].data.module = g", "nn.gModule.modules: expected a tree of modules"),
        ("g.modules = {}; g.forwardnodes[3].data.module = g", "expected a tree of modules, the file holds a container that contains itself"),
    ]
    for i, (tamper, expected) in enumerate(cases):
        path = craft(nnlua, str(tmp_path / f"g{i}.t7"), base + tamper + "; return g")
        with pytest.raises(T7FormatError) as info:
            load_model(path, state=nnlua)
        expect(str(info.value), expected)


# ---------------------------------------------------------------- forward cannot read past a storage
def test_forged_modules_never_reach_forward():
    """The issue's out-of-bounds cases, loaded and run in a subprocess: each ends in a
    T7FormatError at load (never an output of garbage, a Lua error on nil, or a crash)."""
    code = r"""
import json, os, tempfile
import numpy as np
import sparktorch7 as st
from sparktorch7.model import load_model
s = st.LuaState(); s.execute("require 'nn'; require 'cudnn'")
cases = [
    ("local m = nn.Linear(1, 4000); m.bias = torch.FloatTensor(1); return m", (2, 1)),
    ("local m = nn.Linear(3, 4000); m.weight = torch.FloatTensor(4000); return m", (2, 3)),
    ("local m = nn.BatchNormalization(300); m:evaluate(); m.weight = torch.Tensor(1); return m", (2, 300)),
    ("local m = nn.BatchNormalization(300); m:evaluate(); m.running_var = torch.Tensor(1); return m", (2, 300)),
    ("local m = nn.SpatialBatchNormalization(30); m:evaluate(); m.bias = torch.Tensor(2); return m", (1, 30, 2, 2)),
    ("local m = nn.PReLU(300); m.weight = torch.Tensor(1); return m", (2, 300)),
    ("local m = nn.Add(10); m.bias = torch.Tensor(0); return m", (2, 10)),
    ("local m = nn.Mul(); m.weight = torch.Tensor(0); return m", (2, 10)),
    ("local m = nn.SparseLinear(10, 300); m.bias = torch.Tensor(1); return m", None),
    ("local m = nn.Euclidean(5, 3); m.weight = 7; return m", (2, 5)),
    ("local m = nn.SpatialConvolutionMap(nn.tables.full(2, 3), 3, 3); m.connTable[1][2] = 1e6; return m", (1, 2, 5, 5)),
    ("local m = nn.SpatialConvolution(3, 8, 3, 3); m.weight = torch.Tensor(1); return m", (1, 3, 5, 5)),
    ("local m = nn.TemporalConvolution(3, 400, 2); m.bias = torch.Tensor(1); return m", (5, 3)),
]
out = []
for build, shape in cases:
    path = os.path.join(tempfile.mkdtemp(), 'm.t7')
    s.eval("function(p) local m = (function() " + build + " end)(); torch.save(p, m) end")(path)
    try:
        m = load_model(path, state=s)
        y = m.forward(np.ones(shape, np.float64)) if shape else None
        out.append('ran: max %r' % (float(np.abs(y).max()) if y is not None else None))
    except Exception as e:
        out.append(type(e).__name__ + ': ' + str(e).splitlines()[0])
print(json.dumps(out))
"""
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300,
                       env=dict(os.environ, PYTHONPATH=ROOT))
    assert r.returncode == 0, r.stderr[-2000:]
    results = json.loads(r.stdout.strip().splitlines()[-1])
    assert len(results) == 13
    for res in results:
        assert res.startswith("T7FormatError: "), res
        assert re.match(r"T7FormatError: (nn|cudnn)\.\w+\.\w+: expected ", res), res


FUZZ_CODE = r"""
import collections, json, os, sys, tempfile
import numpy as np
import sparktorch7 as st
from sparktorch7.model import load_model
P = sys.argv[1]
s = st.LuaState(); s.execute("require 'nn'; require 'cudnn'")
fields = list(s.eval('''function(p)
  local m = torch.load(p); local out = {}
  for k in pairs(m) do out[#out + 1] = '0 ' .. k end
  for i, x in ipairs(m.modules) do for k in pairs(x) do out[#out + 1] = i .. ' ' .. k end end
  return out end''')(P).values())
mutate = s.eval('''function(p, path, i, k, how)
  local m = torch.load(p)
  local x = i == 0 and m or m.modules[i]
  local values = {num = 3, neg = -1, frac = 2.5, str = 'x', tbl = {}, bool = true,
                  tiny = torch.FloatTensor(1), empty = torch.FloatTensor(), self = m}
  x[k] = values[how]
  torch.save(path, m)
end''')
path = os.path.join(tempfile.mkdtemp(), 'm.t7')
counts, bad = collections.Counter(), []
for f in fields:
    i, k = f.split(' ', 1)
    for how in ['nil', 'num', 'neg', 'frac', 'str', 'tbl', 'bool', 'tiny', 'empty', 'self']:
        mutate(P, path, int(i), k, how)
        where = '%s %s %s' % (i, k, how)
        try:
            y = load_model(path, state=s).forward(np.ones((2, 784), np.float32))
            counts['ran'] += 1
            if not (np.all(np.isfinite(y)) and np.abs(y).max() < 1e30):
                bad.append('%s: output %r' % (where, float(np.abs(y).max())))
        except st.T7FormatError as e:
            counts['refused'] += 1
            if not str(e).startswith(('nn.', 'cudnn.')):
                bad.append('%s: %s' % (where, str(e).splitlines()[0]))
        except Exception as e:
            bad.append('%s: %s: %s' % (where, type(e).__name__, str(e).splitlines()[0]))
print(json.dumps({'counts': counts, 'bad': bad}))
"""


@pytest.mark.slow
def test_mutated_fields_of_the_mnist_fixture():
    """Every field of every module of the real MNIST model replaced by a wrong value (nil, a
    number, a fraction, a string, a table, a boolean, a 1-element or empty tensor, the model
    itself): each file is refused with T7FormatError naming the class or, when the change is
    harmless (an output buffer, say), forward gives finite values. Run in a subprocess: a
    crash fails the test, not the suite."""
    r = subprocess.run([sys.executable, "-c", FUZZ_CODE, MNIST], capture_output=True, text=True,
                       timeout=600, env=dict(os.environ, PYTHONPATH=ROOT))
    assert r.returncode == 0, r.stderr[-2000:]
    result = json.loads(r.stdout.strip().splitlines()[-1])
    assert not result["bad"], result["bad"]
    assert result["counts"]["refused"] > 300


FIELD_FUZZ_CODE = r"""
import collections, json, os, re, tempfile
import numpy as np
import sparktorch7 as st
from sparktorch7.model import load_model
s = st.LuaState(); s.execute("require 'nn'; require 'cudnn'; require 'nngraph'")
CASES = [
 ("nn.Linear(5, 4)", (2, 5)), ("nn.Linear(5, 4):noBias()", (5,)),
 ("nn.BatchNormalization(4):evaluate()", (3, 4)), ("nn.SpatialBatchNormalization(3):evaluate()", (2, 3, 4, 4)),
 ("nn.SpatialConvolution(3, 4, 3, 3, 1, 1, 1, 1)", (1, 3, 6, 6)), ("nn.SpatialConvolutionMM(3, 4, 3, 3)", (3, 6, 6)),
 ("cudnn.SpatialConvolution(4, 6, 3, 3, 1, 1, 1, 1, 2)", (1, 4, 5, 5)),
 ("nn.SpatialFullConvolution(3, 4, 3, 3, 2, 2)", (1, 3, 4, 4)), ("nn.SpatialMaxPooling(2, 2)", (1, 3, 4, 4)),
 ("nn.SpatialAveragePooling(2, 2)", (1, 3, 4, 4)), ("nn.View(-1)", (2, 3)), ("nn.Reshape(6)", (2, 3)),
 ("nn.Dropout(0.3):evaluate()", (2, 3)), ("nn.ReLU()", (2, 3)), ("nn.Threshold(0.1, 2)", (2, 3)),
 ("nn.PReLU(3)", (2, 3)), ("nn.CMul(3)", (2, 3)), ("nn.Add(3)", (2, 3)), ("nn.Mul()", (2, 3)),
 ("nn.TemporalConvolution(3, 4, 2)", (5, 3)), ("nn.VolumetricConvolution(2, 3, 2, 2, 2)", (1, 2, 3, 3, 3)),
 ("nn.SpatialZeroPadding(1, 1, 1, 1)", (1, 2, 3, 3)),
 ("nn.Euclidean(3, 4)", (2, 3)), ("nn.Cosine(3, 4)", (2, 3)), ("nn.LogSoftMax()", (2, 3)),
 ("nn.Sequential():add(nn.Linear(3, 4)):add(nn.Tanh())", (2, 3)),
 ("nn.Concat(2):add(nn.Linear(3, 2)):add(nn.Linear(3, 4))", (2, 3)),
 ("nn.Sum(2)", (2, 3)), ("nn.Mean(2)", (2, 3)), ("nn.Max(2)", (2, 3)), ("nn.Normalize(2)", (2, 3)),
 ("nn.Narrow(2, 1, 2)", (2, 3)), ("nn.Select(2, 1)", (2, 3)), ("nn.Transpose({1, 2})", (2, 3)),
 ("nn.Replicate(2)", (2, 3)), ("nn.Padding(2, 1)", (2, 3)), ("nn.SpatialUpSamplingNearest(2)", (1, 2, 2, 2)),
 ("nn.SpatialSoftMax()", (1, 2, 2, 2)), ("nn.HardTanh()", (2, 3)), ("nn.SoftPlus()", (2, 3)), ("nn.ELU()", (2, 3)),
 ("nn.Power(2)", (2, 3)), ("nn.MulConstant(2)", (2, 3)), ("nn.AddConstant(2)", (2, 3)), ("nn.Square()", (2, 3)),
 ("nn.SpatialAdaptiveMaxPooling(2, 2)", (1, 2, 4, 4)), ("nn.TemporalMaxPooling(2)", (4, 3)),
 ("nn.PixelShuffle(2)", (1, 4, 2, 2)), ("cudnn.SoftMax()", (2, 3)), ("cudnn.ReLU()", (2, 3)),
 ("nn.Bottle(nn.Linear(3, 2))", (2, 2, 3)), ("nn.WeightedEuclidean(3, 4)", (2, 3)),
 ("nn.SpatialSubSampling(2, 2, 2)", (1, 2, 4, 4)), ("nn.TemporalSubSampling(3, 2)", (4, 3)),
 ("nn.LinearWeightNorm(3, 4)", (2, 3)),
 ("nn.SpatialConvolutionLocal(2, 3, 5, 4, 3, 2, 1, 1, 1, 0)", (2, 2, 4, 5)),
 ("nn.SpatialFullConvolutionMap(nn.tables.full(2, 3), 3, 2, 2, 1)", (2, 4, 3)),
 ("nn.SpatialDepthWiseConvolution(2, 3, 3, 2, 1, 2, 1, 0)", (2, 2, 5, 6)),
 ("nn.SpatialFractionalMaxPooling(2, 3, 0.5, 0.6)", (2, 9, 8)),
 ("nn.VolumetricFractionalMaxPooling(2, 2, 2, 3, 3, 2)", (2, 2, 5, 6, 7)),
 ("nn.TemporalDynamicKMaxPooling(3, 0.5)", (2, 8, 3)), ("nn.TemporalRowConvolution(3, 2, 1, true)", (3, 7)),
 ("nn.UpSampling({odepth=3, oheight=5, owidth=7}, 'trilinear')", (1, 2, 2, 3, 4)), ("nn.UpSampling(2)", (2, 2, 3, 4)),
 ("nn.VolumetricDilatedMaxPooling(2, 2, 2, 1, 1, 1, 1, 1, 0, 2, 1, 2)", (2, 2, 6, 7, 6)),
 ("nn.VolumetricMaxUnpooling(nn.VolumetricMaxPooling(2, 2, 2))", (1, 2, 2, 2)),
 ("nn.VolumetricReplicationPadding(1, 2, 0, 1, 2, -1)", (2, 2, 3, 4, 5)),
 ("nn.FeatureLPPooling(3, 2, 2, true)", (2, 7, 3)), ("cudnn.TemporalConvolution(3, 4, 3, 2, 1)", (2, 7, 3)),
 ("(function() local p = cudnn._Pooling(3, 3, 2, 2, 1, 1); p.mode = 'CUDNN_POOLING_MAX'; return p end)()", (2, 2, 7, 6)),
 ("(function() local p = cudnn._Pointwise(); p.mode = 'CUDNN_ACTIVATION_CLIPPED_RELU'; p.ceiling = 3; return p end)()", (2, 3)),
]
fields_of = s.eval('''function(code) local m = loadstring('return ' .. code)(); local out = {}
  for k in pairs(m) do out[#out + 1] = k end; return out end''')
mutate = s.eval('''function(code, path, k, how)
  local m = loadstring('return ' .. code)()
  local values = {num = 3, neg = -1, frac = 2.5, big = 2^40, str = 'x', tbl = {}, bool = true,
                  tiny = torch.Tensor(1), empty = torch.Tensor(), self = m, big2d = torch.Tensor(7, 9)}
  m[k] = values[how]
  torch.save(path, m)
end''')
path = os.path.join(tempfile.mkdtemp(), 'm.t7')
counts, bad = collections.Counter(), []
for code, shape in CASES:
    for k in list(fields_of(code).values()):
        for how in ['nil', 'num', 'neg', 'frac', 'big', 'str', 'tbl', 'bool', 'tiny', 'empty', 'self', 'big2d']:
            mutate(code, path, k, how)
            where = '%s .%s=%s' % (code, k, how)
            try:
                y = load_model(path, state=s).forward(np.ones(shape))
                counts['ran'] += 1
                if y.size and not (np.all(np.isfinite(y)) and np.abs(y).max() < 1e30):
                    bad.append('%s: output %r' % (where, float(np.abs(y).max())))
            except st.T7FormatError as e:
                counts['refused'] += 1
                if not re.match(r"(nn|cudnn|nngraph)\.\w+(\.\w+)?: expected ", str(e)):
                    bad.append('%s: %s' % (where, str(e).splitlines()[0]))
            except st.LuaError as e:
                # what forward says of an input that does not fit the module: a clear error
                # naming the module or the tensor method, never an internal Lua error
                counts['forward error'] += 1
                first = str(e).splitlines()[0] + ' ' + ' '.join(str(e).splitlines()[1:2])
                if '<' not in first or re.search(r"attempt to|bad argument|a nil value", first):
                    bad.append('%s: %s' % (where, first))
            except Exception as e:
                bad.append('%s: %s: %s' % (where, type(e).__name__, str(e).splitlines()[0]))
print(json.dumps({'counts': counts, 'bad': bad}))
"""


@pytest.mark.slow
def test_mutated_fields_of_many_module_classes():
    """Each field of ~55 module classes (built in Lua) replaced by a wrong value, then
    load_model and a forward on an input that fits the untampered module: refused at load
    (T7FormatError naming class and field), or a clean run, or a forward error that names
    the module; never a crash (subprocess), an internal Lua error or a garbage output."""
    r = subprocess.run([sys.executable, "-c", FIELD_FUZZ_CODE], capture_output=True, text=True,
                       timeout=900, env=dict(os.environ, PYTHONPATH=ROOT))
    assert r.returncode == 0, r.stderr[-2000:]
    result = json.loads(r.stdout.strip().splitlines()[-1])
    assert not result["bad"], result["bad"]
    assert result["counts"]["refused"] > 3000


GRAPH_FUZZ_CODE = r"""
import collections, json, os, re, tempfile, sys
import numpy as np
import sparktorch7 as st
from sparktorch7.model import load_model
G = sys.argv[1]
s = st.LuaState(); s.execute("require 'nn'; require 'nngraph'")
targets = list(s.eval('''function(p) local g = torch.load(p); local out = {}
  for i, node in ipairs(g.forwardnodes) do
    for k in pairs(node) do out[#out + 1] = 'node ' .. i .. ' ' .. k end
    for k in pairs(node.data) do out[#out + 1] = 'data ' .. i .. ' ' .. k end
    for j in ipairs(node.children) do out[#out + 1] = 'map ' .. i .. ' ' .. j end
  end
  for k in pairs(g) do out[#out + 1] = 'g 0 ' .. k end
  return out end''')(G).values())
mutate = s.eval('''function(p, path, what, i, k, how)
  local g = torch.load(p)
  local values = {num = 3, neg = -1, frac = 2.5, str = 'x', tbl = {}, bool = true,
                  tiny = torch.Tensor(1), self = g, node = g.forwardnodes[1]}
  local v = values[how]
  if what == 'g' then g[k] = v
  elseif what == 'node' then g.forwardnodes[i][k] = v
  elseif what == 'data' then g.forwardnodes[i].data[k] = v
  else
    local node = g.forwardnodes[i]
    local child = node.children[tonumber(k)]
    child.data.mapindex[node.data] = v
  end
  torch.save(path, g)
end''')
path = os.path.join(tempfile.mkdtemp(), 'g.t7')
counts, bad = collections.Counter(), []
a = np.array([[1.0]]); b = np.array([[2.0, 3.0]])
for t in targets:
    what, i, k = t.split(' ', 2)
    for how in ['nil', 'num', 'neg', 'frac', 'str', 'tbl', 'bool', 'tiny', 'self', 'node']:
        mutate(G, path, what, int(i), k, how)
        where = '%s .%s=%s' % (t, k, how)
        try:
            y = load_model(path, state=s).forward([a, b])
            counts['ran'] += 1
        except st.T7FormatError as e:
            counts['refused'] += 1
        except st.LuaError as e:
            counts['forward error'] += 1
            first = ' '.join(str(e).splitlines()[:2])
            if '<' not in first or re.search(r"attempt to|bad argument|a nil value|index is nil|stack overflow", first):
                bad.append('%s: %s' % (where, first[:200]))
        except Exception as e:
            bad.append('%s: %s: %s' % (where, type(e).__name__, str(e).splitlines()[0]))
print(json.dumps({'counts': counts, 'bad': bad}))
"""


@pytest.mark.slow
def test_mutated_nodes_of_the_gmodule_fixture():
    """Every field of every node of the real nngraph fixture, every field of its data and
    every child's mapindex replaced by a wrong value, then load_model and a forward: refused
    at load, a clean run, or a forward error naming the module; never an internal Lua error
    ("table index is nil", "attempt to ...") or a crash (subprocess)."""
    r = subprocess.run([sys.executable, "-c", GRAPH_FUZZ_CODE, GMODULE], capture_output=True, text=True,
                       timeout=600, env=dict(os.environ, PYTHONPATH=ROOT))
    assert r.returncode == 0, r.stderr[-2000:]
    result = json.loads(r.stdout.strip().splitlines()[-1])
    assert not result["bad"], result["bad"]
    assert result["counts"]["refused"] > 300


def test_criterion_weights_that_do_not_fit_the_input():
    """Class weights are sized by the input (known only at forward): a loaded criterion whose
    weights are fewer than the classes raises instead of reading past them (subprocess)."""
    code = r"""
import json
import sparktorch7 as st
s = st.LuaState(); s.execute("require 'nn'")
out = []
for build, call in [
    ("nn.ClassNLLCriterion(torch.Tensor(2):fill(1))", "return c:forward(torch.randn(3, 5), torch.Tensor{5, 5, 5})"),
    ("nn.MultiMarginCriterion(1, torch.Tensor(2):fill(1))", "return c:forward(torch.randn(3, 5), torch.Tensor{5, 5, 5})"),
    ("nn.MultiMarginCriterion()", "return c:forward(torch.randn(300, 5), torch.Tensor{1})"),
    ("nn.BCECriterion(torch.Tensor(1))", "c.weights = torch.Tensor(); return c:forward(torch.rand(4), torch.rand(4))"),
]:
    f = s.eval("function() local c = torch.deserialize(torch.serialize(" + build + ")); " + call + " end")
    try:
        out.append('ran %r' % (f(),))
    except st.LuaError as e:
        out.append(str(e).splitlines()[0])
print(json.dumps(out))
"""
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                       env=dict(os.environ, PYTHONPATH=ROOT))
    assert r.returncode == 0, r.stderr[-2000:]
    out = json.loads(r.stdout.strip().splitlines()[-1])
    expect(out[0], "<nn.ClassNLLCriterion> weights has 2 elements, the input 5 classes")
    expect(out[1], "<nn.MultiMarginCriterion> weights has 2 elements, the input 5 classes")
    expect(out[2], "<nn.MultiMarginCriterion> 1 targets for 300 samples")
    expect(out[3], "<nn.BCECriterion> weights of 0 elements do not fit an input of 4")


# ---------------------------------------------------------------- what must keep loading
ROUND_TRIP = [
    "nn.Linear(3, 4)", "nn.Linear(3, 4):noBias()", "nn.Bilinear(2, 3, 4)", "nn.LookupTable(10, 3)",
    "nn.Add(4)", "nn.Add(4, true)", "nn.Mul()", "nn.CMul(3, 4)", "nn.CAdd(4)", "nn.PReLU()", "nn.PReLU(4)",
    "nn.Euclidean(3, 4)", "nn.WeightedEuclidean(3, 4)", "nn.Cosine(3, 4)", "nn.SparseLinear(10, 3)",
    "nn.LinearWeightNorm(3, 4)", "nn.BatchNormalization(4)", "nn.BatchNormalization(4, 1e-5, 0.1, false)",
    "nn.SpatialBatchNormalization(4)", "nn.VolumetricBatchNormalization(4)",
    "nn.SpatialConvolution(3, 8, 3, 3, 1, 1, 1, 1)", "nn.SpatialConvolutionMM(3, 8, 3, 3)",
    "nn.SpatialDilatedConvolution(3, 8, 3, 3, 1, 1, 2, 2, 2, 2)",
    "nn.SpatialConvolutionMap(nn.tables.oneToOne(3), 3, 3)", "nn.SpatialSubSampling(3, 2, 2)",
    "nn.SpatialFullConvolution(3, 4, 3, 3, 2, 2, 1, 1, 1, 1)", "nn.SpatialMaxPooling(2, 2)",
    "nn.SpatialDilatedMaxPooling(2, 2, 1, 1, 0, 0, 2, 2)", "nn.SpatialAveragePooling(2, 2):ceil()",
    "nn.SpatialAdaptiveMaxPooling(3, 3)", "nn.SpatialAdaptiveAveragePooling(3, 3)",
    "nn.SpatialCrossMapLRN(5)", "nn.SpatialZeroPadding(1, -1, 2, 0)", "nn.SpatialReflectionPadding(1, 1)",
    "nn.SpatialReplicationPadding(1, 1)", "nn.SpatialUpSamplingNearest(2)", "nn.SpatialUpSamplingBilinear(2)",
    "nn.SpatialSoftMax()", "nn.SpatialLogSoftMax()", "nn.PixelShuffle(2)", "nn.TemporalConvolution(3, 4, 2)",
    "nn.TemporalMaxPooling(2)", "nn.TemporalSubSampling(3, 2)", "nn.VolumetricConvolution(2, 4, 2, 2, 2)",
    "nn.VolumetricDilatedConvolution(2, 4, 2, 2, 2)", "nn.VolumetricFullConvolution(2, 4, 2, 2, 2)",
    "nn.VolumetricMaxPooling(2, 2, 2)", "nn.VolumetricAveragePooling(2, 2, 2)", "nn.SpatialLPPooling(3, 2, 2, 2)",
    "nn.SpatialSubtractiveNormalization(3)", "nn.SpatialDivisiveNormalization(3)",
    "nn.SpatialContrastiveNormalization(3)",
    "nn.View(2, -1)", "nn.View(6):setNumInputDims(2)", "nn.Reshape(2, 3)", "nn.Reshape(2, 3, true)",
    "nn.Transpose({1, 2}, {2, 3})", "nn.Narrow(1, 2, 3)", "nn.Select(1, 2)", "nn.Squeeze()", "nn.Unsqueeze(2)",
    "nn.Replicate(3)", "nn.Padding(1, 2)", "nn.Index(1)", "nn.OneHot(5)", "nn.Sum(1)", "nn.Mean(2)",
    "nn.Max(1)", "nn.Min(1)", "nn.Normalize(2)", "nn.PairwiseDistance(2)", "nn.Dropout(0.3)",
    "nn.SpatialDropout()", "nn.VolumetricDropout()", "nn.ReLU()", "nn.ReLU(true)", "nn.ReLU6()", "nn.ELU()",
    "nn.LeakyReLU()", "nn.PReLU()", "nn.RReLU()", "nn.Threshold(0.1, 2)", "nn.HardTanh()", "nn.Clamp(-1, 1)",
    "nn.SoftPlus()", "nn.SoftShrink()", "nn.HardShrink()", "nn.Power(2)", "nn.Sqrt()", "nn.Square()",
    "nn.AddConstant(2)", "nn.MulConstant(2)", "nn.GradientReversal()", "nn.L1Penalty(0.1)",
    "nn.GatedLinearUnit()", "nn.JoinTable(1)", "nn.SplitTable(1)", "nn.SelectTable(1)", "nn.NarrowTable(1, 2)",
    "nn.FlattenTable()", "nn.MixtureTable()", "nn.CAddTable()", "nn.MM()", "nn.MV()", "nn.Copy()",
    "nn.Sequential():add(nn.Linear(2, 3)):add(nn.Tanh())", "nn.Concat(2):add(nn.Linear(2, 3))",
    "nn.DepthConcat(2):add(nn.Identity())", "nn.ConcatTable():add(nn.Identity()):add(nn.Identity())",
    "nn.Parallel(1, 1):add(nn.Identity())", "nn.ParallelTable():add(nn.Identity())",
    "nn.MapTable(nn.Linear(2, 2))", "nn.Bottle(nn.Linear(2, 2))", "nn.Decorator(nn.Linear(2, 2))",
    "nn.DontCast(nn.Linear(2, 2))", "nn.NaN(nn.Linear(2, 2))", "nn.CReLU(3)",
    "nn.ClassNLLCriterion()", "nn.CrossEntropyCriterion()", "nn.MSECriterion()", "nn.BCECriterion()",
    "nn.MultiCriterion():add(nn.MSECriterion())", "nn.ParallelCriterion():add(nn.MSECriterion())",
    "nn.MultiMarginCriterion()", "nn.MarginRankingCriterion()", "nn.CosineEmbeddingCriterion()",
    "cudnn.SpatialConvolution(4, 6, 3, 3, 1, 1, 1, 1, 2)", "cudnn.SpatialBatchNormalization(4)",
    "cudnn.ReLU()", "cudnn.ClippedReLU(6)", "cudnn.SoftMax()", "cudnn.LogSoftMax()", "cudnn.SpatialSoftMax()",
    "cudnn.VolumetricSoftMax()", "cudnn.SpatialCrossMapLRN(5)", "cudnn.SpatialMaxPooling(2, 2)",
    "cudnn.SpatialFullConvolution(3, 4, 3, 3)", "cudnn.VolumetricConvolution(2, 4, 2, 2, 2)",
    "nngraph.ModuleFromCriterion(nn.MSECriterion())", "nngraph.JustElement()", "nngraph.JustTable()",
]


def test_modules_built_in_lua_round_trip(nnlua):
    """A saved module built by its constructor loads back: the schemas accept what the
    classes themselves make."""
    check = nnlua.eval("""function(code)
        local m = loadstring('return ' .. code)()
        local back = torch.deserialize(torch.serialize(m))
        return torch.type(back) == torch.type(m)
    end""")
    failures = []
    for code in ROUND_TRIP:
        try:
            assert check(code)
        except (LuaError, AssertionError) as e:
            failures.append(f"{code}: {str(e).splitlines()[0]}")
    assert not failures, failures


def test_real_files_still_load():
    state = st.LuaState()
    model = load_model(MNIST, state=state)
    assert model.forward(np.zeros((2, 784), np.float32)).shape == (2, 10)
    g = load_model(GMODULE, state=state)
    assert g.module is not None
    # checkpoints of real projects with classes this runtime does not define, as placeholders
    for name in ("char-rnn_lm_lstm_epoch0.16.t7", "torch-rnn_checkpoint_18000.t7"):
        path = os.path.join(FIXTURES, "wild", name)
        kind = state.eval("function(p) return torch.type(torch.load(p, nil, {unknown_classes = 'table'})) end")(path)
        assert kind == "table"


def test_char_rnn_checkpoint_with_its_classes():
    state = st.LuaState()
    state.execute(REQUIRES)
    state.eval("function(p) package.path = p .. '/?.lua;' .. package.path; require 'util.OneHot' end")(
        os.path.join(FIXTURES, "projects", "char-rnn"))
    n = state.eval("function(p) local c = torch.load(p); return #c.protos.rnn:listModules() end")(
        os.path.join(FIXTURES, "wild", "char-rnn_lm_lstm_epoch0.16.t7"))
    assert n > 10


def test_lua_built_modules_are_not_checked(nnlua):
    # only what comes from a file is checked: Lua code may still build and change modules freely
    assert nnlua.eval("""function()
        local m = nn.Linear(3, 4)
        m.weight = torch.Tensor(4, 3):fill(1); m.bias = torch.Tensor(4):zero()
        return m:forward(torch.ones(3)):sum()
    end""")() == 12


# ---------------------------------------------------------------- the convention
def _class_files(package):
    return sorted(os.path.basename(f)[:-4] for f in glob.glob(os.path.join(LUA, package, "*.lua"))
                  if os.path.basename(f)[0].isupper())


# the packages whose classes live under another package's name (rnn's nn.LSTM, dpnn's nn.Constant)
CLASS_PREFIX = {"rnn": "nn", "dpnn": "nn", "nnx": "nn", "stn": "nn"}


@pytest.mark.parametrize("package", ["nn", "cudnn", "nngraph", "rnn", "dpnn", "nnx", "inn", "stn"])
def test_every_class_declares_a_schema(package):
    state = st.LuaState()
    state.execute(REQUIRES + "; require 'rnn'; require 'dpnn'; require 'nnx'; require 'inn'; require 'stn'")
    of = state.eval("function(name) local s = require('nn.schema').of(name); return s ~= nil, s and s.reason end")
    missing, unexplained = [], []
    for name in _class_files(package):
        if package == "nngraph" and name == "Node":
            continue     # a graph node, not a module: gModule checks its nodes
        if package == "nn" and name in ("Jacobian", "SparseJacobian"):
            continue     # Torch7's gradient-check helpers: a table of functions, not a class
        with open(os.path.join(LUA, package, name + ".lua")) as f:
            src = f.read()
        if not re.search(r"schema\.(declare|parameterless|inherited|like)\(", src):
            missing.append(name)
            continue
        # the class the file defines (nnx's own namespace holds nnx.QDRiemaNNLinear)
        m = re.search(r"torch\.class\(['\"](\w+)\.%s['\"]" % name, src)
        has, reason = of(f"{m.group(1) if m else CLASS_PREFIX.get(package, package)}.{name}")
        if not has:
            missing.append(name)
        elif re.search(r"schema\.(parameterless|inherited|like)\(", src) and not reason:
            unexplained.append(name)
    assert not missing, f"{package} classes without a schema: {missing}"
    assert not unexplained, f"{package} classes listed as parameterless without a reason: {unexplained}"
    state.close()


def test_schema_module_makes_no_globals():
    state = st.LuaState()
    state.execute("require 'torch'")
    before = set(state.eval("function() local t = {} for k in pairs(_G) do t[#t + 1] = k end return t end")().values())
    state.execute("require 'nn.schema'")
    after = set(state.eval("function() local t = {} for k in pairs(_G) do t[#t + 1] = k end return t end")().values())
    assert after - before == set()
    state.close()
