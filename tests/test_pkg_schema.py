"""The declared field schemas of the rnn, dpnn, nnx and inn classes and of the cudnn RNNs
(lua/nn/schema.lua, declared next to each class): a module read from a file whose fields do
not fit its class raises T7FormatError naming the class, the field, what was expected and
what the file holds. The files are written by this runtime's torch.save from modules built
in Lua and then tampered with (a field replaced, resized or removed); correctly built
modules still load and forward as before."""
import json
import os
import subprocess
import sys

import pytest

import sparktorch7 as st
from sparktorch7 import T7FormatError
from sparktorch7.model import load_model
from schema_helpers import craft, expect, load_error

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

REQUIRES = "require 'nn'; require 'cudnn'; require 'rnn'; require 'dpnn'; require 'nnx'; require 'inn'"


@pytest.fixture
def pkglua(lua):
    lua.execute(REQUIRES)
    return lua


def cudnn_params(mode, inputs, hidden, layers, dirs):
    """The flat weight's element count, written out here from cudnn's layout: per layer and
    direction g input matrices (hidden x its input), g recurrent ones and 2g biases."""
    g = {"CUDNN_LSTM": 4, "CUDNN_GRU": 3, "CUDNN_RNN_RELU": 1, "CUDNN_RNN_TANH": 1}[mode]
    n = 0
    for layer in range(layers):
        ins = inputs if layer == 0 else hidden * dirs
        n += dirs * (g * hidden * ins + g * hidden * hidden + 2 * g * hidden)
    return n


def run_cases(lua, tmp_path, cases, ctor):
    for i, (tamper, parts) in enumerate(cases):
        path = craft(lua, str(tmp_path / f"m{i}.t7"), f"local m = {ctor}; {tamper}; return m")
        with pytest.raises(T7FormatError) as info:
            load_model(path, state=lua)
        expect(str(info.value), *parts)


# ---------------------------------------------------------------- rnn: LSTM, FastLSTM, GRU
@pytest.mark.parametrize("tamper, parts", [
    ("m.inputSize = -3", ["nn.LSTM.inputSize: expected an integer >= 1 (below 2^31), the file holds the number -3"]),
    ("m.outputSize = 2.5", ["nn.LSTM.outputSize: expected an integer >= 1", "the number 2.5"]),
    ("m.outputSize = nil", ["nn.LSTM.outputSize: expected an integer >= 1 (below 2^31), "
                            "the file holds nothing (the field is missing)"]),
    ("m.inputSize = 2^40", ["nn.LSTM.inputSize", "the number 1099511627776"]),
    ("m.rho = -1", ["nn.LSTM.rho: expected an integer >= 0 (below 2^31) (or nothing), the file holds the number -1"]),
    ("m.step = 1.5", ["nn.LSTM.step: expected an integer >= 0", "the number 1.5"]),
    ("m.p = 1.5", ["nn.LSTM.p: expected a number <= 1, the file holds the number 1.5"]),
    ("m.cell2gate = 'yes'", ['nn.LSTM.cell2gate: expected a boolean (or nothing), the file holds the string "yes"']),
    ("m.cells = 3", ["nn.LSTM.cells: expected a table (or nothing), the file holds the number 3"]),
    ("m.recurrentModule = 5", ["nn.LSTM.recurrentModule: expected an nn module (or nothing), the file holds the number 5"]),
    ("m.sharedClones = {[1] = 'x'}", ['nn.LSTM.sharedClones: expected a table of nn modules keyed by integers, '
                                      'the file holds the string "x" at key 1']),
    ("m.sharedClones = {[2.5] = nn.Tanh()}", ["nn.LSTM.sharedClones: expected a table of nn modules keyed by integers",
                                              "the key number 2.5"]),
    ("m.recurrentModule = m", ["nn.LSTM.recurrentModule: expected a module that does not contain the nn.LSTM itself",
                               "(a cycle)"]),
    ("m.sharedClones = {m.recurrentModule, m}", ["nn.LSTM.sharedClones: expected step clones that do not contain "
                                                 "the nn.LSTM itself", "at step 2"]),
    # the input gate's Linear (x -> gate) of 4 x 5 where the LSTM reads 3 values
    ("local para = m.inputGate.modules[#m.inputGate.modules - 2]; para.modules[1].modules[2].weight = torch.Tensor(4, 5)",
     ["nn.LSTM.inputGate: expected a gate whose nn.Linear weight is a tensor of size 4x3 (outputSize x inputSize), "
      "the file holds one whose nn.Linear weight is a torch.DoubleTensor of size 4x5"]),
    ("local para = m.outputGate.modules[#m.outputGate.modules - 2]; para.modules[2].modules[2].weight = torch.Tensor(4, 2)",
     ["nn.LSTM.outputGate: expected a gate whose nn.LinearNoBias weight is a tensor of size 4x4 (outputSize x outputSize)"]),
    ("local para = m.forgetGate.modules[#m.forgetGate.modules - 2]; para.modules[3] = nn.CMul(3)",
     ["nn.LSTM.forgetGate: expected a gate whose nn.CMul weight is a tensor of 4 elements (outputSize)"]),
])
def test_lstm_fields(pkglua, tmp_path, tamper, parts):
    msg = load_error(pkglua, tmp_path, f"local m = nn.LSTM(3, 4); {tamper}; return m")
    expect(msg, *parts)
    assert "byte offset" in msg


@pytest.mark.parametrize("ctor, tamper, parts", [
    ("nn.FastLSTM(3, 4)", "m.i2g.weight = torch.Tensor(16, 5)",
     ["nn.FastLSTM.i2g: expected an nn.Linear whose weight is a tensor of size 16x3 (4 * outputSize x inputSize), "
      "the file holds one whose weight is a torch.DoubleTensor of size 16x5"]),
    ("nn.FastLSTM(3, 4)", "m.o2g.weight = torch.Tensor(12, 4)",
     ["nn.FastLSTM.o2g: expected an nn.LinearNoBias whose weight is a tensor of size 16x4 (4 * outputSize x outputSize)",
      "size 12x4"]),
    # the sizes say 5 outputs, the gate layers were built for 4
    ("nn.FastLSTM(3, 4)", "m.outputSize = 5",
     ["nn.FastLSTM.i2g: expected an nn.Linear whose weight is a tensor of size 20x3"]),
    ("nn.FastLSTM(3, 4)", "m.i2g = nn.Tanh()",
     ["nn.FastLSTM.i2g: expected an nn.Linear (or an nn.Sequential of 4 side by side), the file holds a nn.Tanh"]),
    ("nn.FastLSTM(3, 4)", "m.i2g = 'w'", ['nn.FastLSTM.i2g: expected an nn module (or nothing), the file holds the string "w"']),
    # with dropout the gates are four Linears side by side
    ("nn.FastLSTM(3, 4, 9, nil, nil, nil, 0.25)", "m.i2g.modules[2].modules[3].weight = torch.Tensor(4, 7)",
     ["nn.FastLSTM.i2g: expected gate layers whose weights are a tensor of size 4x3 (outputSize x inputSize)",
      "at gate 3 a torch.DoubleTensor of size 4x7"]),
    ("nn.FastLSTM(3, 4, 9, nil, nil, nil, 0.25)", "table.remove(m.o2g.modules[2].modules)",
     ["nn.FastLSTM.o2g: expected 4 nn.LinearNoBias gate layers (an nn.ParallelTable of 4), "
      "the file holds an nn.ParallelTable of 3 modules"]),
    ("nn.GRU(3, 4)", "m.i2g.weight = torch.Tensor(8, 2)",
     ["nn.GRU.i2g: expected an nn.Linear whose weight is a tensor of size 8x3 (2 * outputSize x inputSize)"]),
    ("nn.GRU(3, 4)", "m.o2g.weight = torch.Tensor(8, 3)",
     ["nn.GRU.o2g: expected an nn.LinearNoBias whose weight is a tensor of size 8x4 (2 * outputSize x outputSize)"]),
    ("nn.GRU(3, 4)", "m.inputSize = 0", ["nn.GRU.inputSize: expected an integer >= 1", "the number 0"]),
    ("nn.GRU(3, 4)", "m.p = -0.5", ["nn.GRU.p: expected a number >= 0, the file holds the number -0.5"]),
    ("nn.GRU(3, 4, 9, 0.5)", "m.i2g.modules[2].modules[1].weight = torch.Tensor(4, 5)",
     ["nn.GRU.i2g: expected gate layers whose weights are a tensor of size 4x3", "at gate 1"]),
])
def test_fastlstm_and_gru_gate_layers(pkglua, tmp_path, ctor, tamper, parts):
    msg = load_error(pkglua, tmp_path, f"local m = {ctor}; {tamper}; return m")
    expect(msg, *parts)


# ---------------------------------------------------------------- rnn: SeqLSTM, SeqGRU
@pytest.mark.parametrize("ctor, tamper, parts", [
    ("nn.SeqLSTM(3, 4)", "m.weight = torch.Tensor(7, 12)",
     ["nn.SeqLSTM.weight: expected a tensor of size 7x16 ((inputsize + outputsize) x 4 * hiddensize), "
      "the file holds a torch.DoubleTensor of size 7x12"]),
    ("nn.SeqLSTM(3, 4)", "m.weight = torch.Tensor(112)", ["nn.SeqLSTM.weight: expected a tensor of size 7x16"]),
    ("nn.SeqLSTM(3, 4)", "m.bias = torch.Tensor(15)",
     ["nn.SeqLSTM.bias: expected a tensor of size 16 (4 * hiddensize), the file holds a torch.DoubleTensor of size 15"]),
    ("nn.SeqLSTM(3, 4)", "m.bias = nil", ["nn.SeqLSTM.bias: expected a tensor, the file holds nothing"]),
    ("nn.SeqLSTM(3, 4)", "m.inputsize = 0", ["nn.SeqLSTM.inputsize: expected an integer >= 1", "the number 0"]),
    ("nn.SeqLSTM(3, 4)", "m.outputsize = 2^33", ["nn.SeqLSTM.outputsize", "the number 8589934592"]),
    ("nn.SeqLSTM(3, 4)", "m.hiddensize = 5", ["nn.SeqLSTM.weight: expected a tensor of size 7x20"]),
    ("nn.SeqLSTM(3, 4)", "m._remember = 'always'",
     ['nn.SeqLSTM._remember: expected one of "both", "eval", "train", "neither", the file holds the string "always"']),
    ("nn.SeqLSTM(3, 4)", "m.batchfirst = 1", ["nn.SeqLSTM.batchfirst: expected a boolean (or nothing)"]),
    ("nn.SeqLSTMP(3, 5, 2)", "m.weightO = torch.Tensor(5, 3)",
     ["nn.SeqLSTMP.weightO: expected a tensor of size 5x2 (hiddensize x outputsize)"]),
    ("nn.SeqLSTMP(3, 5, 2)", "m.weight = torch.Tensor(5, 16)",
     ["nn.SeqLSTMP.weight: expected a tensor of size 5x20 ((inputsize + outputsize) x 4 * hiddensize)"]),
    ("nn.SeqGRU(3, 4)", "m.weight = torch.Tensor(7, 11)",
     ["nn.SeqGRU.weight: expected a tensor of size 7x12 (inputSize + outputSize x 3 * outputSize), "
      "the file holds a torch.DoubleTensor of size 7x11"]),
    ("nn.SeqGRU(3, 4)", "m.bias = torch.Tensor(4)", ["nn.SeqGRU.bias: expected a tensor of size 12 (3 * outputSize)"]),
    ("nn.SeqGRU(3, 4)", "m.outputSize = -4", ["nn.SeqGRU.outputSize: expected an integer >= 1", "the number -4"]),
    ("nn.SeqGRU(3, 4)", "m.inputSize = nil", ["nn.SeqGRU.inputSize: expected an integer >= 1", "nothing"]),
])
def test_seq_lstm_and_gru_weights(pkglua, tmp_path, ctor, tamper, parts):
    msg = load_error(pkglua, tmp_path, f"local m = {ctor}; {tamper}; return m")
    expect(msg, *parts)


# ---------------------------------------------------------------- rnn: containers
@pytest.mark.parametrize("ctor, tamper, parts", [
    ("nn.Sequencer(nn.Linear(3, 2))", "m.modules = {m.modules[1], nn.Tanh()}",
     ["nn.Sequencer.modules: expected a list of one module (the decorated one), the file holds a list of 2 modules"]),
    ("nn.Sequencer(nn.Linear(3, 2))", "m.module = 'x'",
     ['nn.Sequencer.module: expected an nn module (or nothing), the file holds the string "x"']),
    ("nn.Sequencer(nn.Linear(3, 2))", "m.modules = {[1] = m.module, [3] = nn.Tanh()}",
     ["nn.Sequencer.modules: expected a list of nn modules (or nothing), the file holds a table with no entry at index 2"]),
    ("nn.Sequencer(nn.Linear(3, 2))", "m._remember = 'sometimes'",
     ['nn.Sequencer._remember: expected one of "both", "eval", "train", "neither"']),
    ("nn.Sequencer(nn.Linear(3, 2))", "m.modules[1] = m",
     ["nn.Sequencer.modules: expected a tree of modules", "contains itself"]),
    ("nn.Recursor(nn.Linear(3, 2))", "m.modules = {}",
     ["nn.Recursor.modules: expected a list of one module (the decorated one), the file holds a list of 0 modules"]),
    ("nn.Recursor(nn.Linear(3, 2))", "m.rho = -5", ["nn.Recursor.rho: expected an integer >= 0", "the number -5"]),
    ("nn.Recursor(nn.Linear(3, 2))", "m.sharedClones = {m.recurrentModule, m}",
     ["nn.Recursor.sharedClones: expected step clones that do not contain the nn.Recursor itself"]),
    ("nn.Recursor(nn.Linear(3, 2))", "m.recurrentModule = {}",
     ["nn.Recursor.recurrentModule: expected an nn module (or nothing), the file holds a table"]),
    ("nn.Recurrent(2, nn.Linear(3, 2), nn.Linear(2, 2), nn.Tanh(), 5)", "m.initialModule = nn.Sequential():add(m)",
     ["nn.Recurrent.initialModule: expected a module that does not contain the nn.Recurrent itself"]),
    ("nn.Recurrent(2, nn.Linear(3, 2), nn.Linear(2, 2), nn.Tanh(), 5)", "m.feedbackModule = 7",
     ["nn.Recurrent.feedbackModule: expected an nn module (or nothing), the file holds the number 7"]),
    ("nn.Recurrence(nn.Sequential():add(nn.SelectTable(1)), 3, 1)", "m.outputSize = {3, -1}",
     ["nn.Recurrence.outputSize: expected sizes that are integers >= 1, the file holds the number -1 at index 2"]),
    ("nn.Recurrence(nn.Sequential():add(nn.SelectTable(1)), 3, 1)", "m.nInputDim = 'one'",
     ["nn.Recurrence.nInputDim: expected an integer >= 0"]),
    ("nn.RecurrentAttention(nn.LSTM(3, 3), nn.Linear(3, 3), 2, {3})", "m.hiddenSize = {2.5}",
     ["nn.RecurrentAttention.hiddenSize: expected sizes that are integers >= 1, the file holds the number 2.5 at index 1"]),
    ("nn.RecurrentAttention(nn.LSTM(3, 3), nn.Linear(3, 3), 2, {3})", "m.nStep = -2",
     ["nn.RecurrentAttention.nStep: expected an integer >= 0"]),
    ("nn.MaskZero(nn.Linear(3, 2), 1)", "m.nInputDim = -1", ["nn.MaskZero.nInputDim: expected an integer >= 0"]),
    ("nn.Repeater(nn.Linear(3, 3), 4)", "m.rho = 0.5", ["nn.Repeater.rho: expected an integer >= 0", "the number 0.5"]),
    ("nn.BiSequencer(nn.LSTM(3, 2))", "m.forwardModule = true",
     ["nn.BiSequencer.forwardModule: expected an nn module (or nothing), the file holds the boolean true"]),
    ("nn.SeqReverseSequence(1)", "m.dim = 4", ["nn.SeqReverseSequence.dim: expected an integer >= 1 (below 2^31) <= 3"]),
    ("nn.LinearNoBias(3, 2)", "m.bias = torch.Tensor(5)",
     ["nn.LinearNoBias.bias: expected a tensor with no dimensions or of size 0 or of size 2"]),
    ("nn.SequencerCriterion(nn.MSECriterion())", "m.criterion = nn.Linear(2, 2)",
     ["nn.SequencerCriterion.criterion: expected an nn criterion, the file holds a nn.Linear"]),
])
def test_recurrent_containers(pkglua, tmp_path, ctor, tamper, parts):
    msg = load_error(pkglua, tmp_path, f"local m = {ctor}; {tamper}; return m")
    expect(msg, *parts)


# ---------------------------------------------------------------- cudnn RNNs: the flat weight
@pytest.mark.parametrize("ctor, mode, dims", [
    ("cudnn.LSTM(3, 4, 2)", "CUDNN_LSTM", (3, 4, 2, 1)),
    ("cudnn.GRU(5, 2, 3)", "CUDNN_GRU", (5, 2, 3, 1)),
    ("cudnn.RNNTanh(3, 4, 1)", "CUDNN_RNN_TANH", (3, 4, 1, 1)),
    ("cudnn.BLSTM(3, 4, 2)", "CUDNN_LSTM", (3, 4, 2, 2)),
    ("cudnn.BGRU(2, 3, 2)", "CUDNN_GRU", (2, 3, 2, 2)),
])
def test_cudnn_rnn_flat_weight_element_count(pkglua, tmp_path, ctor, mode, dims):
    n = cudnn_params(mode, *dims)
    assert pkglua.eval(f"{ctor}.weight:nElement()") == n
    cls = ctor.split("(")[0]
    msg = load_error(pkglua, tmp_path, f"local m = {ctor}; m.weight = torch.Tensor({n - 1}); return m")
    expect(msg, f"{cls}.weight: expected a tensor of {n} elements (mode {mode}, inputSize {dims[0]}, "
                f"hiddenSize {dims[1]}, numLayers {dims[2]}, numDirections {dims[3]}), "
                f"the file holds a torch.DoubleTensor of size {n - 1} ({n - 1} elements)")


@pytest.mark.parametrize("tamper, parts", [
    ("m.numLayers = 3", ["cudnn.LSTM.weight: expected a tensor of", "numLayers 3"]),
    ("m.hiddenSize = 5", ["cudnn.LSTM.weight: expected a tensor of", "hiddenSize 5"]),
    ("m.mode = 'CUDNN_GRU'", ["cudnn.LSTM.weight: expected a tensor of", "mode CUDNN_GRU"]),
    ("m.numLayers = 2^40", ["cudnn.LSTM.numLayers: expected an integer >= 1 (below 2^31), "
                            "the file holds the number 1099511627776"]),
    ("m.numLayers = 0", ["cudnn.LSTM.numLayers: expected an integer >= 1", "the number 0"]),
    ("m.hiddenSize = 1.5", ["cudnn.LSTM.hiddenSize: expected an integer >= 1", "the number 1.5"]),
    ("m.inputSize = nil", ["cudnn.LSTM.inputSize: expected an integer >= 1", "nothing"]),
    ("m.mode = 'CUDNN_FOO'", ['cudnn.LSTM.mode: expected one of "CUDNN_RNN_RELU", "CUDNN_RNN_TANH", "CUDNN_LSTM", '
                              '"CUDNN_GRU", the file holds the string "CUDNN_FOO"']),
    ("m.bidirectional = 'BOTH'", ['cudnn.LSTM.bidirectional: expected one of "CUDNN_UNIDIRECTIONAL", '
                                  '"CUDNN_BIDIRECTIONAL"']),
    ("m.numDirections = 2", ['cudnn.LSTM.numDirections: expected 1 (bidirectional = "CUDNN_UNIDIRECTIONAL"), '
                             'the file holds the number 2']),
    ("m.numDirections = 3", ["cudnn.LSTM.numDirections: expected an integer >= 1 (below 2^31) <= 2"]),
    ("m.inputMode = 'CUDNN_SKIP_INPUT'", ['cudnn.LSTM.inputMode: expected one of "CUDNN_LINEAR_INPUT"']),
    ("m.dropout = 2", ["cudnn.LSTM.dropout: expected a number <= 1"]),
    ("m.weight = 'w'", ['cudnn.LSTM.weight: expected a tensor, the file holds the string "w"']),
])
def test_cudnn_rnn_fields(pkglua, tmp_path, tamper, parts):
    msg = load_error(pkglua, tmp_path, f"local m = cudnn.LSTM(3, 4, 2); {tamper}; return m")
    expect(msg, *parts)


def test_cudnn_bidirectional_directions(pkglua, tmp_path):
    msg = load_error(pkglua, tmp_path, "local m = cudnn.BLSTM(3, 4, 1); m.numDirections = 1; return m")
    expect(msg, 'cudnn.BLSTM.numDirections: expected 2 (bidirectional = "CUDNN_BIDIRECTIONAL"), the file holds the number 1')
    # files without numDirections take it from bidirectional: the weight count then needs 2
    path = craft(pkglua, str(tmp_path / "ok.t7"), "local m = cudnn.BLSTM(3, 4, 1); m.numDirections = nil; return m")
    model = load_model(path, state=pkglua)
    assert pkglua.eval("function(m) return m.numDirections end")(model.module) == 2


# ---------------------------------------------------------------- inn
@pytest.mark.parametrize("ctor, tamper, parts", [
    ("inn.ROIPooling(2, 3, 0.5)", "m.W = 0", ["inn.ROIPooling.W: expected an integer >= 1 (below 2^31), the file holds the number 0"]),
    ("inn.ROIPooling(2, 3, 0.5)", "m.H = 2^40", ["inn.ROIPooling.H", "the number 1099511627776"]),
    ("inn.ROIPooling(2, 3, 0.5)", "m.H = 2.5", ["inn.ROIPooling.H: expected an integer >= 1", "the number 2.5"]),
    ("inn.ROIPooling(2, 3, 0.5)", "m.W = nil", ["inn.ROIPooling.W: expected an integer >= 1", "nothing"]),
    ("inn.ROIPooling(2, 3, 0.5)", "m.spatial_scale = -1",
     ["inn.ROIPooling.spatial_scale: expected spatial_scale > 0, the file holds the number -1"]),
    ("inn.ROIPooling(2, 3, 0.5)", "m.spatial_scale = 'half'", ["inn.ROIPooling.spatial_scale: expected a number (or nothing)"]),
    ("inn.ROIPooling(2, 3, 0.5)", "m.v2 = 1", ["inn.ROIPooling.v2: expected a boolean (or nothing)"]),
    ("inn.SpatialPyramidPooling({2, 2}, {1, 1})", "m.pyr = {{2, 2}}",
     ["inn.SpatialPyramidPooling.pyr: expected a grid size per branch (2 branches), the file holds 1 grid sizes"]),
    ("inn.SpatialPyramidPooling({2, 2}, {1, 1})", "m.pyr[1] = {2, 0.5}",
     ["inn.SpatialPyramidPooling.pyr: expected a list of grid sizes {w, h} (integers >= 1), the file holds a table at index 1"]),
    ("inn.SpatialPyramidPooling({2, 2}, {1, 1})", "m.pyr[2] = {3, 3}",
     ["inn.SpatialPyramidPooling.pyr: expected the grid size 1x1 at index 2 (its branch's nn.SpatialAdaptiveMaxPooling), "
      "the file holds 3x3"]),
    ("inn.SpatialPyramidPooling({2, 2}, {1, 1})", "m.pyr = nil", ["inn.SpatialPyramidPooling.pyr: expected a table"]),
    ("inn.ConstAffine(4)", "m.b = torch.Tensor(3)",
     ["inn.ConstAffine.b: expected a tensor of 4 elements (a:nElement()), the file holds a torch.DoubleTensor of size 3"]),
    ("inn.MeanSubtraction(torch.zeros(3, 2, 2))", "m.mean = 0", ["inn.MeanSubtraction.mean: expected a tensor, the file holds the number 0"]),
    ("inn.SpatialMaxPooling(2, 2, 2, 2)", "m.kW = -2", ["inn.SpatialMaxPooling.kW: expected an integer >= 1", "the number -2"]),
    ("inn.SpatialSameResponseNormalization(3)", "m.size = 0", ["inn.SpatialSameResponseNormalization.size: expected an integer >= 1"]),
])
def test_inn_fields(pkglua, tmp_path, ctor, tamper, parts):
    msg = load_error(pkglua, tmp_path, f"local m = {ctor}; {tamper}; return m")
    expect(msg, *parts)


# ---------------------------------------------------------------- nnx resampling
@pytest.mark.parametrize("ctor, tamper, parts", [
    ("nn.SpatialReSampling({owidth = 4, oheight = 3})", "m.owidth = -2",
     ["nn.SpatialReSampling.owidth: expected a number >= 1, the file holds the number -2"]),
    ("nn.SpatialReSampling({owidth = 4, oheight = 3})", "m.oheight = 2^40",
     ["nn.SpatialReSampling.oheight: expected a number <= 2147483647, the file holds the number 1099511627776"]),
    ("nn.SpatialReSampling({rwidth = 2, rheight = 2})", "m.rwidth = 0",
     ["nn.SpatialReSampling.rwidth: expected rwidth > 0, the file holds the number 0"]),
    ("nn.SpatialReSampling({rwidth = 2, rheight = 2})", "m.rheight = 'x'",
     ["nn.SpatialReSampling.rheight: expected a number (or nothing)"]),
    ("nn.SpatialReSamplingEx({owidth = 4, oheight = 4})", "m.mode = 'cubic'",
     ['nn.SpatialReSamplingEx.mode: expected one of "simple", "average", "bilinear", the file holds the string "cubic"']),
    ("nn.SpatialReSamplingEx({owidth = 4, oheight = 4})", "m.xDim = 4",
     ["nn.SpatialReSamplingEx.xDim: expected xDim == yDim + 1, the file holds the number 4"]),
    ("nn.SpatialReSamplingEx({owidth = 4, oheight = 4})", "m.mode_c = 2",
     ['nn.SpatialReSamplingEx.mode_c: expected 0 (mode "simple"), the file holds the number 2']),
    ("nn.SpatialReSamplingEx({owidth = 4, oheight = 4})", "m.owidth = 1.5",
     ["nn.SpatialReSamplingEx.owidth: expected an integer >= 1", "the number 1.5"]),
    ("nn.SpatialUpSampling(2, 2)", "m.dW = 1.5", ["nn.SpatialUpSampling.dW: expected an integer >= 1", "the number 1.5"]),
    ("nn.SpatialUpSampling(2, 2)", "m.yDim = 3", ["nn.SpatialUpSampling.xDim: expected xDim == yDim + 1, the file holds the number 3"]),
    ("nn.SpatialUpSampling(2, 2)", "m.yDim, m.xDim = 3, nil",
     ["nn.SpatialUpSampling.yDim: expected 2 (xDim - 1, xDim being absent: 3), the file holds the number 3"]),
    ("nn.SpatialUpSampling(2, 2)", "m.dH = nil", ["nn.SpatialUpSampling.dH: expected an integer >= 1", "nothing"]),
    ("nn.SpatialDownSampling(2, 2)", "m.rW = 0", ["nn.SpatialDownSampling.rW: expected an integer >= 1", "the number 0"]),
    ("nn.SpatialPadding(1, 1, 1, 1)", "m.pad_t = 0.5", ["nn.SpatialPadding.pad_t: expected an integer", "the number 0.5"]),
    ("nn.SpatialNormalization(2, torch.ones(3, 3))", "m.convo = nil",
     ["nn.SpatialNormalization.convo: expected an nn module, the file holds nothing"]),
])
def test_nnx_fields(pkglua, tmp_path, ctor, tamper, parts):
    msg = load_error(pkglua, tmp_path, f"local m = {ctor}; {tamper}; return m")
    expect(msg, *parts)


# ---------------------------------------------------------------- dpnn
@pytest.mark.parametrize("ctor, tamper, parts", [
    ("nn.Constant(torch.Tensor({1, 2}))", "m.value = 3", ["nn.Constant.value: expected a tensor, the file holds the number 3"]),
    ("nn.Constant(torch.Tensor({1, 2}))", "m.value = nil", ["nn.Constant.value: expected a tensor, the file holds nothing"]),
    ("nn.Constant(torch.Tensor({1, 2}), 1)", "m.nInputDim = -1",
     ["nn.Constant.nInputDim: expected an integer >= 0 (below 2^31) (or nothing), the file holds the number -1"]),
    ("nn.Dictionary(5, 3)", "m.weight = torch.Tensor(15)", ["nn.Dictionary.weight: expected a tensor of 2 dimensions"]),
    ("nn.Collapse(2)", "m.nInputDim = 'two'",
     ['nn.Collapse.nInputDim: expected an integer >= 0 (below 2^31) (or nothing), the file holds the string "two"']),
    ("nn.Collapse(2)", "m.nInputDim = 2.5", ["nn.Collapse.nInputDim: expected an integer >= 0", "the number 2.5"]),
    ("nn.Convert('bchw', 'bf')", "m.inputShape = 'chw'",
     ["nn.Convert.inputShape: expected a layout of axis letters with a batch axis b", 'the string "chw"']),
    ("nn.Convert('bchw', 'bf')", "m.inputBatchDim = 2",
     ['nn.Convert.inputBatchDim: expected 1 (the position of b in inputShape "bchw"), the file holds the number 2']),
    ("nn.Convert('bchw', 'bf')", "m.nInputDim = 3",
     ['nn.Convert.nInputDim: expected 4 (the axes of inputShape "bchw"), the file holds the number 3']),
    ("nn.Convert('bchw', 'bf')", "m.outputShape = 5", ["nn.Convert.outputShape: expected a string, the file holds the number 5"]),
    ("nn.Clip(-1, 1)", "m.maxval = -2", ["nn.Clip.maxval: expected maxval >= minval, the file holds the number -2"]),
    ("nn.SpatialFeatNormalization(torch.zeros(3))", "m.mean = torch.zeros(2)",
     ["nn.SpatialFeatNormalization.mean: expected a tensor of size 3 (noOfFeats)"]),
    ("nn.TotalDropout(0.5)", "m.p = 2", ["nn.TotalDropout.p: expected a number <= 1"]),
    ("nn.SpatialGlimpse(4, 2, 2)", "m.depth = 0", ["nn.SpatialGlimpse.depth: expected an integer >= 1"]),
    ("nn.ArgMax(2)", "m.dim = 0", ["nn.ArgMax.dim: expected an integer >= 1"]),
])
def test_dpnn_fields(pkglua, tmp_path, ctor, tamper, parts):
    msg = load_error(pkglua, tmp_path, f"local m = {ctor}; {tamper}; return m")
    expect(msg, *parts)


# ---------------------------------------------------------------- round trips
ROUND_TRIPS = [
    ("nn.LSTM(3, 4)", "torch.randn(2, 3)"),
    ("nn.LSTM(3, 4, 9, false)", "torch.randn(2, 3)"),
    ("nn.FastLSTM(3, 4)", "torch.randn(2, 3)"),
    ("nn.GRU(3, 4)", "torch.randn(2, 3)"),
    ("nn.SeqLSTM(3, 4)", "torch.randn(5, 2, 3)"),
    ("nn.SeqLSTMP(3, 5, 2)", "torch.randn(5, 2, 3)"),
    ("nn.SeqGRU(3, 4)", "torch.randn(5, 2, 3)"),
    ("nn.Sequencer(nn.FastLSTM(3, 4))", "{torch.randn(2, 3), torch.randn(2, 3), torch.randn(2, 3)}"),
    ("nn.Sequencer(nn.Linear(3, 2))", "{torch.randn(2, 3), torch.randn(2, 3)}"),
    ("nn.Recurrent(2, nn.Linear(3, 2), nn.Linear(2, 2), nn.Tanh(), 5)", "torch.randn(4, 3)"),
    ("nn.BiSequencer(nn.LSTM(3, 2))", "{torch.randn(2, 3), torch.randn(2, 3)}"),
    ("nn.SeqBRNN(3, 2)", "torch.randn(4, 2, 3)"),
    ("nn.Sequencer(nn.MaskZero(nn.Linear(3, 2), 1))", "{torch.randn(2, 3), torch.zeros(2, 3)}"),
    ("nn.Sequential():add(nn.LookupTableMaskZero(5, 3)):add(nn.LinearNoBias(3, 2))", "torch.LongTensor({0, 2, 5})"),
    ("cudnn.LSTM(3, 4, 2):float()", "torch.randn(5, 2, 3):float()"),
    ("cudnn.BGRU(3, 4, 2):float()", "torch.randn(5, 2, 3):float()"),
    ("cudnn.RNNReLU(3, 4, 1):float()", "torch.randn(5, 2, 3):float()"),
    ("inn.ROIPooling(2, 2, 0.5)", "{torch.randn(1, 2, 8, 8), torch.Tensor({{1, 1, 1, 8, 8}, {1, 2, 2, 5, 7}})}"),
    ("inn.SpatialPyramidPooling({2, 2}, {1, 1})", "torch.randn(1, 2, 6, 6)"),
    ("inn.ConstAffine(2)", "torch.randn(3, 2)"),
    ("nn.SpatialReSampling({owidth = 5, oheight = 3})", "torch.randn(2, 4, 4)"),
    ("nn.SpatialReSamplingEx({owidth = 8, oheight = 8, mode = 'bilinear'})", "torch.randn(2, 4, 4)"),
    ("nn.SpatialUpSampling(2, 3)", "torch.randn(2, 3, 3)"),
    ("nn.SpatialDownSampling(2, 2)", "torch.randn(2, 4, 4)"),
    ("nn.Constant(torch.Tensor({1, 2}), 1)", "torch.randn(4, 3)"),
    ("nn.Sequential():add(nn.Convert('bchw', 'bf')):add(nn.Collapse(1))", "torch.randn(2, 3, 2, 2)"),
    ("nn.Dictionary(5, 3)", "torch.LongTensor({1, 5, 2})"),
]


@pytest.mark.parametrize("ctor, x", ROUND_TRIPS)
def test_correct_modules_load_and_forward_identically(pkglua, tmp_path, ctor, x):
    path = str(tmp_path / "m.t7")
    diff = pkglua.eval("""function(path)
        local function maxdiff(a, b)
           if torch.isTensor(a) then
              assert(torch.isTensor(b) and a:isSameSizeAs(b), 'outputs of different sizes')
              return a:nElement() == 0 and 0 or (a:double() - b:double()):abs():max()
           end
           assert(type(a) == 'table' and type(b) == 'table' and #a == #b, 'outputs of different forms')
           local d = 0
           for i = 1, #a do d = math.max(d, maxdiff(a[i], b[i])) end
           return d
        end
        local function copy(y)
           if torch.isTensor(y) then return y:clone() end
           local t = {}
           for i, v in ipairs(y) do t[i] = copy(v) end
           return t
        end
        torch.manualSeed(3)
        local m = %s
        m:evaluate()
        local x = %s
        torch.save(path, m)
        local y = copy(m:forward(x))
        local m2 = torch.load(path)
        assert(torch.type(m2) == torch.type(m))
        return maxdiff(y, m2:forward(x))
    end""" % (ctor, x))(path)
    assert diff == 0
    # and through the public loader
    load_model(path, state=pkglua)


def test_old_files_without_optional_fields_still_load(pkglua, tmp_path):
    # a SeqLSTM of before the projection (no hiddensize), rnn modules without step bookkeeping,
    # a LinearNoBias with an empty bias: as older rnn versions wrote them
    cases = [
        ("local m = nn.SeqLSTM(3, 4); m.hiddensize = nil; m._remember = nil; m.cell = nil; return m", "torch.randn(2, 1, 3)"),
        ("local m = nn.FastLSTM(3, 4); m.step, m.outputs, m.sharedClones, m.rho = nil, nil, nil, nil; return m",
         "torch.randn(1, 3)"),
        ("local m = nn.LinearNoBias(3, 2); m.bias = torch.Tensor(); return m", "torch.randn(1, 3)"),
        ("local m = cudnn.LSTM(3, 4, 1):float(); m.numDirections = nil; return m", "torch.randn(2, 1, 3):float()"),
    ]
    for i, (build, x) in enumerate(cases):
        path = craft(pkglua, str(tmp_path / f"m{i}.t7"), build)
        n = pkglua.eval("function(path) local m = torch.load(path); m:evaluate(); return m:forward(%s):nElement() end" % x)(path)
        assert n > 0


# ---------------------------------------------------------------- out of bounds: in a subprocess
def test_tampered_sizes_never_reach_forward():
    """Fields whose sizes disagree with the weights the NumPy kernels read (cudnn's flat weight,
    SeqLSTM/SeqGRU's weights, FastLSTM's gate layers, per-channel tensors), loaded and run in
    a subprocess: each ends in a T7FormatError at load, never an output of garbage or a crash."""
    code = r"""
import json, os, tempfile
import sparktorch7 as st
from sparktorch7.model import load_model
s = st.LuaState(); s.execute(%r)
cases = [
    ("local m = cudnn.LSTM(3, 4, 2):float(); m.numLayers = 3; return m", "torch.randn(5, 2, 3):float()"),
    ("local m = cudnn.LSTM(3, 4, 2):float(); m.hiddenSize = 6; return m", "torch.randn(5, 2, 3):float()"),
    ("local m = cudnn.GRU(3, 4, 1):float(); m.weight = torch.FloatTensor(10); return m", "torch.randn(5, 2, 3):float()"),
    ("local m = cudnn.BLSTM(3, 4, 1):float(); m.bidirectional = 'CUDNN_UNIDIRECTIONAL'; m.numDirections = 1; return m",
     "torch.randn(5, 2, 3):float()"),
    ("local m = nn.SeqLSTM(3, 4); m.weight = torch.randn(3, 16); return m", "torch.randn(5, 2, 3)"),
    ("local m = nn.SeqLSTM(3, 4); m.bias = torch.randn(4); return m", "torch.randn(5, 2, 3)"),
    ("local m = nn.SeqLSTM(3, 4); m.outputsize = 40; return m", "torch.randn(5, 2, 3)"),
    ("local m = nn.SeqGRU(3, 4); m.weight = torch.randn(7, 3); return m", "torch.randn(5, 2, 3)"),
    ("local m = nn.FastLSTM(3, 4); m.o2g.weight = torch.randn(4, 4); return m", "torch.randn(2, 3)"),
    ("local m = nn.FastLSTM(3, 4); m.outputSize = 40; return m", "torch.randn(2, 3)"),
    ("local m = nn.LSTM(3, 4); local g = m.inputGate.modules[#m.inputGate.modules - 2]; "
     "g.modules[2].modules[2].weight = torch.randn(4, 1); return m", "torch.randn(2, 3)"),
    ("local m = nn.SpatialFeatNormalization(torch.zeros(30)); m.std = torch.ones(1); return m", "torch.randn(30, 4, 4)"),
    ("local m = inn.ConstAffine(30); m.b = torch.ones(1); return m", "torch.randn(2, 30)"),
    ("local m = inn.ROIPooling(2, 2); m.H = 2^40; return m",
     "{torch.randn(1, 2, 8, 8), torch.Tensor({{1, 1, 1, 8, 8}})}"),
    ("local m = nn.SpatialReSamplingEx({owidth = 8, oheight = 8}); m.mode_c = 2; m.mode = 'simple'; return m",
     "torch.randn(2, 4, 4)"),
    ("local m = nn.SpatialUpSampling(2, 2); m.xDim = 4; return m", "torch.randn(2, 3, 3)"),
]
results = []
d = tempfile.mkdtemp()
for i, (build, x) in enumerate(cases):
    path = os.path.join(d, "m%%d.t7" %% i)
    s.eval("function(path) local m = (function() %%s end)(); torch.save(path, m) end" %% build)(path)
    try:
        model = load_model(path, state=s)
    except st.T7FormatError as e:
        results.append(str(e).splitlines()[0])
        continue
    try:
        s.eval("function(m) m:forward(%%s) end" %% x)(model.module)
        results.append("LOADED AND RAN")
    except Exception as e:
        results.append("LOADED, forward failed: " + str(e).splitlines()[0])
print(json.dumps(results))
""" % REQUIRES
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300,
                       env=dict(os.environ, PYTHONPATH=ROOT))
    assert r.returncode == 0, r.stderr
    results = json.loads(r.stdout.strip().splitlines()[-1])
    fields = ["cudnn.LSTM.weight", "cudnn.LSTM.weight", "cudnn.GRU.weight", "cudnn.BLSTM.weight",
              "nn.SeqLSTM.weight", "nn.SeqLSTM.bias", "nn.SeqLSTM.weight", "nn.SeqGRU.weight",
              "nn.FastLSTM.o2g", "nn.FastLSTM.i2g", "nn.LSTM.inputGate",
              "nn.SpatialFeatNormalization.std", "inn.ConstAffine.b", "inn.ROIPooling.H",
              "nn.SpatialReSamplingEx.mode_c", "nn.SpatialUpSampling.xDim"]
    assert len(results) == len(fields)
    for res, field in zip(results, fields):
        assert res.startswith(f"{field}: expected "), (field, res)


@pytest.mark.parametrize("extra", ["", "o.modules = {}"])
def test_torch_rnn_objects_are_told_apart_before_the_schema(pkglua, tmp_path, extra):
    # torch-rnn's nn.LSTM (weight, bias, input_dim, hidden_dim) read under rnn's class name: the
    # message says what it is, not which of rnn's fields it lacks
    path = str(tmp_path / "torch_rnn.t7")
    pkglua.eval("""function(path)
        local o = {weight = torch.zeros(5, 8), bias = torch.zeros(8), input_dim = 3, hidden_dim = 2,
                   train = false, output = torch.Tensor(), gradInput = torch.Tensor()}
        %s
        torch.setmetatable(o, 'nn.LSTM')
        local f = torch.DiskFile(path, 'w'):binary(); f:writeObject(o); f:close()
    end""" % extra)(path)
    with pytest.raises(st.LuaError) as info:
        load_model(path, state=pkglua)
    assert "<nn.LSTM> this object was not saved by Element-Research rnn's nn.LSTM" in str(info.value)
