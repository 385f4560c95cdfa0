"""Gradients of the simple nn modules (pointwise, shape, table-input, distance, embedding,
sub-sampling and normalisation modules, and cudnn's pointwise/softmax ones): every module
checked by nn.Jacobian in double precision (testJacobian for gradInput,
testJacobianParameters and testJacobianUpdateParameters for each parameter), in batch and
single-sample mode where the module has both; modules whose input is a table, or holds
indices, are checked through a wrapper that feeds them views of one flat tensor. The cases
finite differences cannot reach (random masks, in-place modules, penalties, index gradients)
are checked against NumPy formulas.
"""
import math

import numpy as np
import pytest

import sparktorch7 as st

# A module seen as a function of one flat tensor: `parts` lists the module's input as
# sizes (views of the flat tensor, differentiable) and constant tensors (indices, masks);
# gradInput packs the gradients of the views back into a flat tensor.
PRELUDE = r"""
require 'nn'
require 'cudnn'
torch.setdefaulttensortype('torch.DoubleTensor')

local OnFlat, parent = torch.class('nn.TestOnFlat', 'nn.Module')

function OnFlat:__init(module, parts, asTable)
   parent.__init(self)
   self.module, self.parts = module, parts
   self.asTable = asTable ~= false
   self.size = 0
   for _, p in ipairs(parts) do
      if not torch.isTensor(p) then
         local n = 1
         for _, s in ipairs(p) do n = n * s end
         self.size = self.size + n
      end
   end
end

function OnFlat:make(flat)
   local t, at = {}, 1
   for k, p in ipairs(self.parts) do
      if torch.isTensor(p) then
         t[k] = p
      else
         local n = 1
         for _, s in ipairs(p) do n = n * s end
         t[k] = flat:narrow(1, at, n):view(torch.LongStorage(p))
         at = at + n
      end
   end
   if self.asTable then return t end
   return t[1]
end

function OnFlat:updateOutput(flat)
   self.output = self.module:forward(self:make(flat))
   return self.output
end

function OnFlat:updateGradInput(flat, gradOutput)
   local g = self.module:updateGradInput(self:make(flat), gradOutput)
   if not self.asTable then g = {g} end
   self.gradInput = flat.new():resizeAs(flat):zero()
   local at = 1
   for k, p in ipairs(self.parts) do
      if not torch.isTensor(p) then
         local n = g[k]:nElement()
         self.gradInput:narrow(1, at, n):copy(g[k]:contiguous():view(n))
         at = at + n
      end
   end
   return self.gradInput
end

function OnFlat:accGradParameters(flat, gradOutput, scale)
   self.module:accGradParameters(self:make(flat), gradOutput, scale)
end

function OnFlat:accUpdateGradParameters(flat, gradOutput, lr)
   self.module:accUpdateGradParameters(self:make(flat), gradOutput, lr)
end

function OnFlat:parameters() return self.module:parameters() end
function OnFlat:zeroGradParameters() self.module:zeroGradParameters() end

-- every check of one module: {input = err, [param] = err, [param .. ' update'] = err}
function checkGradients(m, target, x, params, lo, hi)
   local res = {}
   res.input = nn.Jacobian.testJacobian(m, x, lo, hi)
   for _, p in ipairs(params) do
      local w, gw = p[1], p[2]
      res[w] = nn.Jacobian.testJacobianParameters(m, x, target[w], target[gw], lo, hi)
      res[w .. ' update'] = nn.Jacobian.testJacobianUpdateParameters(m, x, target[w], lo, hi)
   end
   return res
end
"""


@pytest.fixture(scope="module")
def lua():
    state = st.LuaState()
    state.execute(PRELUDE)
    yield state
    state.close()


W, B = ("weight", "gradWeight"), ("bias", "gradBias")

# id: (constructor, input shapes (batch first, then single), parameters, input range, tolerance)
CASES = {
    "Abs": ("nn.Abs()", [(3, 4), (5,)], [], None, None),
    "Exp": ("nn.Exp()", [(3, 4), (5,)], [], None, None),
    "Log": ("nn.Log()", [(3, 4), (5,)], [], (0.5, 2), None),
    "Square": ("nn.Square()", [(3, 4), (5,)], [], None, None),
    "Sqrt": ("nn.Sqrt()", [(3, 4), (5,)], [], (0.5, 2), None),
    "Sqrt-eps": ("nn.Sqrt(0.5)", [(3, 4)], [], (0.1, 2), None),
    "SoftSign": ("nn.SoftSign()", [(3, 4), (5,)], [], None, None),
    "TanhShrink": ("nn.TanhShrink()", [(3, 4), (5,)], [], None, None),
    "LogSigmoid": ("nn.LogSigmoid()", [(3, 4), (5,)], [], (-30, 30), None),
    "Power-3": ("nn.Power(3)", [(3, 4), (5,)], [], None, None),
    "Power-half": ("nn.Power(0.5)", [(3, 4)], [], (0.5, 2), None),
    "HardShrink": ("nn.HardShrink(0.3)", [(3, 4), (5,)], [], None, None),
    "SoftShrink": ("nn.SoftShrink(0.3)", [(3, 4), (5,)], [], None, None),
    "ELU": ("nn.ELU(0.7)", [(3, 4), (5,)], [], None, None),
    "LeakyReLU": ("nn.LeakyReLU(0.1)", [(3, 4), (5,)], [], None, None),
    "HardTanh": ("nn.HardTanh(-0.5, 0.8)", [(3, 4), (5,)], [], None, None),
    "Clamp": ("nn.Clamp(-1.2, 0.4)", [(3, 4)], [], None, None),
    "ReLU6": ("nn.ReLU6()", [(3, 4)], [], (-3, 9), None),
    "SoftPlus": ("nn.SoftPlus()", [(3, 4), (5,)], [], None, None),
    "SoftPlus-beta": ("nn.SoftPlus(2, 1)", [(3, 4)], [], None, None),
    "RReLU-eval": ("nn.RReLU(0.1, 0.3):evaluate()", [(3, 4), (5,)], [], None, None),
    "PReLU-shared": ("nn.PReLU()", [(3, 4), (5,)], [W], None, None),
    "PReLU-planes": ("nn.PReLU(3)", [(2, 3, 2, 2), (3, 2, 2)], [W], None, None),
    "PReLU-planes-2d": ("nn.PReLU(4)", [(3, 4), (4,)], [W], None, None),
    "Dropout-eval": ("nn.Dropout(0.4):evaluate()", [(3, 4)], [], None, None),
    "Dropout-v1-eval": ("nn.Dropout(0.4, true):evaluate()", [(3, 4)], [], None, None),
    "Identity": ("nn.Identity()", [(3, 4)], [], None, None),
    "Contiguous": ("nn.Contiguous()", [(3, 4)], [], None, None),
    "Copy": ("nn.Copy('torch.DoubleTensor', 'torch.DoubleTensor', true)", [(3, 4)], [], None, None),
    "AddConstant": ("nn.AddConstant(1.5)", [(3, 4), (5,)], [], None, None),
    "AddConstant-tensor": ("nn.AddConstant(torch.Tensor({1, -2, 3, 0.5}))", [(3, 4), (4,)], [], None, None),
    "MulConstant": ("nn.MulConstant(-2.5)", [(3, 4), (5,)], [], None, None),
    "Mul": ("nn.Mul()", [(3, 4), (5,)], [W], None, None),
    "Add": ("nn.Add(4)", [(3, 4), (4,)], [B], None, None),
    "Add-scalar": ("nn.Add(4, true)", [(3, 4), (4,)], [B], None, None),
    "CAdd": ("nn.CAdd(3, 4)", [(2, 3, 4), (3, 4)], [B], None, None),
    "CAdd-broadcast": ("nn.CAdd(3, 1)", [(3, 4)], [B], None, None),
    "CMul": ("nn.CMul(3, 4)", [(2, 3, 4), (3, 4)], [W], None, None),
    "CMul-broadcast": ("nn.CMul(1, 4)", [(3, 4)], [W], None, None),
    "SoftMax": ("nn.SoftMax()", [(3, 4), (5,), (2, 3, 2, 2), (3, 2, 2)], [], None, None),
    "SoftMin": ("nn.SoftMin()", [(3, 4), (5,), (3, 2, 2)], [], None, None),
    "LogSoftMax": ("nn.LogSoftMax()", [(3, 4), (5,), (2, 3, 2, 2)], [], None, None),
    "GatedLinearUnit": ("nn.GatedLinearUnit()", [(3, 4), (6,)], [], None, None),
    "GatedLinearUnit-dim1": ("nn.GatedLinearUnit(1)", [(4, 3)], [], None, None),
    "Narrow": ("nn.Narrow(2, 2, 2)", [(3, 4)], [], None, None),
    "Narrow-negative": ("nn.Narrow(-1, -1, 3)", [(3, 4), (4,)], [], None, None),
    "Narrow-length": ("nn.Narrow(1, 2, -1)", [(4, 3)], [], None, None),
    "Select": ("nn.Select(2, 3)", [(2, 4, 3)], [], None, None),
    "Select-negative": ("nn.Select(-1, -1)", [(3, 4)], [], None, None),
    "Reshape": ("nn.Reshape(12)", [(2, 3, 4), (3, 4)], [], None, None),
    "View": ("nn.View(-1, 4)", [(2, 3, 4)], [], None, None),
    "View-batch": ("nn.View(12):setNumInputDims(2)", [(2, 3, 4), (3, 4)], [], None, None),
    "Squeeze": ("nn.Squeeze()", [(2, 1, 3, 1)], [], None, None),
    "Squeeze-dim": ("nn.Squeeze(2, 2)", [(3, 2, 1), (2, 1)], [], None, None),
    "Unsqueeze": ("nn.Unsqueeze(2, 1)", [(3, 4), (4,)], [], None, None),
    "Transpose": ("nn.Transpose({1, 3})", [(2, 3, 4)], [], None, None),
    "Transpose-two": ("nn.Transpose({1, 2}, {2, 3}):setNumInputDims(3)", [(2, 2, 3, 4), (2, 3, 4)], [], None, None),
    "Replicate": ("nn.Replicate(3, 2)", [(2, 4)], [], None, None),
    "Replicate-batch": ("nn.Replicate(3, 1, 1)", [(2, 4), (4,)], [], None, None),
    "Padding-end": ("nn.Padding(1, 2, 1, 0.5)", [(3, 4), (4,)], [], None, None),
    "Padding-start": ("nn.Padding(1, -2, 1)", [(3, 4), (4,)], [], None, None),
    "Padding-middle": ("nn.Padding(2, -1, 2, 0, 2)", [(3, 4)], [], None, None),
    "Sum": ("nn.Sum(1)", [(3, 4), (5,)], [], None, None),
    "Sum-average": ("nn.Sum(2, nil, true)", [(3, 4, 2)], [], None, None),
    "Sum-batch": ("nn.Sum(1, 1)", [(3, 4), (4,)], [], None, None),
    "Sum-keep": ("nn.Sum(-1, nil, false, false)", [(3, 4)], [], None, None),
    "Mean": ("nn.Mean(2)", [(3, 4), (3, 4, 2)], [], None, None),
    "Mean-batch": ("nn.Mean(1, 1)", [(3, 4), (4,)], [], None, None),
    "Max": ("nn.Max(2)", [(3, 4), (3, 4, 2)], [], None, None),
    "Max-batch": ("nn.Max(1, 1)", [(3, 4), (4,)], [], None, None),
    "Min": ("nn.Min(-1)", [(3, 4), (5,)], [], None, None),
    "PixelShuffle": ("nn.PixelShuffle(2)", [(2, 8, 2, 3), (4, 2, 2)], [], None, None),
    "CReLU": ("nn.CReLU(1)", [(3, 4), (4,)], [], None, None),
    "L1Penalty-zero": ("nn.L1Penalty(0)", [(3, 4)], [], None, None),
    "Normalize-2": ("nn.Normalize(2)", [(3, 4), (4,)], [], None, None),
    "Normalize-1.5": ("nn.Normalize(1.5)", [(3, 4)], [], (0.2, 2), None),
    "Normalize-3": ("nn.Normalize(3)", [(3, 4)], [], None, None),
    "Normalize-inf": ("nn.Normalize(math.huge)", [(3, 4), (4,)], [], None, None),
    "Cosine": ("nn.Cosine(4, 3)", [(2, 4), (4,)], [W], None, None),
    "Euclidean": ("nn.Euclidean(4, 3)", [(2, 4), (4,)], [W], None, 1e-5),
    "WeightedEuclidean": ("nn.WeightedEuclidean(4, 3)", [(2, 4), (4,)], [W, ("diagCov", "gradDiagCov")],
                          None, 1e-5),
    "LinearWeightNorm": ("nn.LinearWeightNorm(4, 3)", [(2, 4), (4,)], [("v", "gradV"), ("g", "gradG"), B],
                         None, None),
    "LinearWeightNorm-nobias": ("nn.LinearWeightNorm(4, 3, false)", [(2, 4)], [("v", "gradV"), ("g", "gradG")],
                                None, None),
    "SpatialSubSampling": ("nn.SpatialSubSampling(2, 2, 3, 2, 1)", [(2, 2, 5, 4), (2, 5, 4)], [W, B], None, None),
    "TemporalSubSampling": ("nn.TemporalSubSampling(3, 2, 1)", [(2, 6, 3), (6, 3)], [W, B], None, None),
    "TemporalSubSampling-stride": ("nn.TemporalSubSampling(2, 3, 2)", [(7, 2)], [W, B], None, None),
    "SpatialConvolutionMap": ("nn.SpatialConvolutionMap(nn.tables.random(3, 2, 2), 2, 3, 1, 2)",
                              [(2, 3, 6, 5), (3, 6, 5)], [W, B], None, None),
    "SpatialConvolutionMap-oneToOne": ("nn.SpatialConvolutionMap(nn.tables.oneToOne(2), 3, 3)",
                                       [(2, 5, 5)], [W, B], None, None),
    "SpatialSubtractiveNormalization": ("nn.SpatialSubtractiveNormalization(2, torch.Tensor(3, 3):fill(1))",
                                        [(2, 2, 5, 4), (2, 5, 4)], [], None, None),
    "SpatialSubtractiveNormalization-1d": ("nn.SpatialSubtractiveNormalization(2, torch.Tensor({1, 2, 1}))",
                                           [(2, 5, 4)], [], None, None),
    "SpatialDivisiveNormalization": ("nn.SpatialDivisiveNormalization(2, torch.Tensor(3, 3):fill(1))",
                                     [(2, 2, 5, 4), (2, 5, 4)], [], None, None),
    "SpatialDivisiveNormalization-1d": ("nn.SpatialDivisiveNormalization(3, torch.Tensor({1, 3, 1}))",
                                        [(3, 4, 5)], [], None, None),
    "SpatialContrastiveNormalization": ("nn.SpatialContrastiveNormalization(2, torch.Tensor(3, 3):fill(1))",
                                        [(2, 2, 4, 4), (2, 5, 4)], [], None, None),
    "SpatialLPPooling": ("nn.SpatialLPPooling(2, 2, 2, 2, 2, 2)", [(2, 2, 4, 4), (2, 4, 6)], [], (0.2, 2), None),
    "cudnn.ReLU": ("cudnn.ReLU()", [(3, 4), (5,)], [], None, None),
    "cudnn.ClippedReLU": ("cudnn.ClippedReLU(0.6)", [(3, 4)], [], None, None),
    "cudnn.Sigmoid": ("cudnn.Sigmoid()", [(3, 4)], [], None, None),
    "cudnn.Tanh": ("cudnn.Tanh()", [(3, 4)], [], None, None),
    "cudnn.SoftMax": ("cudnn.SoftMax()", [(2, 3, 2, 2), (3, 2, 2), (3, 4), (5,)], [], None, None),
    "cudnn.SoftMax-channel": ("(function() local m = cudnn.SoftMax(); m.mode = 'CUDNN_SOFTMAX_MODE_CHANNEL'; "
                              "return m end)()", [(2, 3, 2, 2), (3, 2, 2)], [], None, None),
    "cudnn.LogSoftMax": ("cudnn.LogSoftMax()", [(2, 3, 2, 2), (3, 4)], [], None, None),
    "cudnn.VolumetricSoftMax": ("cudnn.VolumetricSoftMax()", [(2, 3, 2, 2, 2), (3, 2, 2, 2)], [], None, None),
    "cudnn.VolumetricLogSoftMax": ("cudnn.VolumetricLogSoftMax()", [(2, 3, 2, 2, 2), (3, 2, 2, 2)], [], None,
                                   None),
}

# modules taking a table (or indices): (module constructor, parts per mode, parameters, tolerance)
WRAPPED = {
    "DotProduct": ("nn.DotProduct()", ["{{3, 4}, {3, 4}}", "{{4}, {4}}"], [], None),
    "CosineDistance": ("nn.CosineDistance()", ["{{3, 4}, {3, 4}}", "{{4}, {4}}"], [], None),
    "PairwiseDistance-1": ("nn.PairwiseDistance(1)", ["{{3, 4}, {3, 4}}", "{{4}, {4}}"], [], None),
    "PairwiseDistance-2": ("nn.PairwiseDistance(2)", ["{{3, 4}, {3, 4}}", "{{4}, {4}}"], [], 1e-5),
    "PairwiseDistance-3": ("nn.PairwiseDistance(3)", ["{{3, 4}, {3, 4}}"], [], 1e-5),
    "PairwiseDistance-inf": ("nn.PairwiseDistance(math.huge)", ["{{3, 4}, {3, 4}}", "{{4}, {4}}"], [], None),
    "Bilinear": ("nn.Bilinear(3, 2, 4)", ["{{5, 3}, {5, 2}}"], [W, B], None),
    "Bilinear-nobias": ("nn.Bilinear(2, 3, 2, false)", ["{{4, 2}, {4, 3}}"], [W], None),
    "MM": ("nn.MM()", ["{{2, 3}, {3, 4}}", "{{2, 2, 3}, {2, 3, 4}}"], [], None),
    "MM-transA": ("nn.MM(true, false)", ["{{3, 2}, {3, 4}}", "{{2, 3, 2}, {2, 3, 4}}"], [], None),
    "MM-transB": ("nn.MM(false, true)", ["{{2, 3}, {4, 3}}"], [], None),
    "MM-transAB": ("nn.MM(true, true)", ["{{3, 2}, {4, 3}}", "{{2, 3, 2}, {2, 4, 3}}"], [], None),
    "MV": ("nn.MV()", ["{{3, 4}, {4}}", "{{2, 3, 4}, {2, 4}}"], [], None),
    "MV-trans": ("nn.MV(true)", ["{{4, 3}, {4}}", "{{2, 4, 3}, {2, 4}}"], [], None),
    "Index": ("nn.Index(1)", ["{{4, 3}, torch.LongTensor({2, 4, 2, 1})}", "{{5}, torch.LongTensor({5, 1})}"], [],
              None),
    "Index-dim2": ("nn.Index(2)", ["{{2, 4}, torch.LongTensor({3, 3, 1})}"], [], None),
    "MaskedSelect": ("nn.MaskedSelect()", ["{{3, 4}, torch.ByteTensor(3, 4):bernoulli(0.5)}"], [], None),
    "LookupTable": ("nn.LookupTable(5, 3)", ["{torch.LongTensor({{1, 3, 3}, {5, 2, 1}})}",
                                             "{torch.LongTensor({4, 2, 4})}"], [W], None),
}


def shape_lua(shape):
    return ", ".join(str(s) for s in shape)


@pytest.mark.parametrize("name", sorted(CASES))
def test_jacobian(lua, name):
    ctor, shapes, params, rng, tol = CASES[name]
    tol = tol or 1e-6
    lo, hi = rng or (-2, 2)
    plist = "{" + ", ".join(f"{{'{w}', '{g}'}}" for w, g in params) + "}"
    for shape in shapes:
        res = lua.eval(f"""(function()
            torch.manualSeed(11)
            local m = {ctor}
            return checkGradients(m, m, torch.Tensor({shape_lua(shape)}), {plist}, {lo}, {hi})
        end)()""")
        errs = dict(res.items())
        assert set(errs) == {"input"} | {w for w, _ in params} | {w + " update" for w, _ in params}
        for what, err in errs.items():
            assert err < tol, f"{name} {shape}: {what} error {err}"


@pytest.mark.parametrize("name", sorted(WRAPPED))
def test_jacobian_of_table_and_index_inputs(lua, name):
    ctor, parts, params, tol = WRAPPED[name]
    tol = tol or 1e-6
    plist = "{" + ", ".join(f"{{'{w}', '{g}'}}" for w, g in params) + "}"
    for p in parts:
        res = lua.eval(f"""(function()
            torch.manualSeed(5)
            local target = {ctor}
            local m = nn.TestOnFlat(target, {p}, {'false' if name.startswith('LookupTable') else 'true'})
            return checkGradients(m, target, torch.Tensor(math.max(m.size, 1)), {plist}, -2, 2)
        end)()""")
        for what, err in dict(res.items()).items():
            assert err < tol, f"{name} {p}: {what} error {err}"


def test_sparse_linear_parameters_by_jacobian(lua):
    """The values of a sparse input (its indices fixed) are its differentiable part."""
    res = lua.eval("""(function()
        torch.manualSeed(3)
        local target = nn.SparseLinear(6, 3)
        local idx = {torch.Tensor({1, 4, 6}), torch.Tensor({2, 4})}
        local m = nn.TestOnFlat(target, {{3}, {2}})
        function m:make(flat)
           local batch = {}
           local at = 1
           for i, ix in ipairs(idx) do
              local t = torch.Tensor(ix:nElement(), 2)
              t:select(2, 1):copy(ix)
              t:select(2, 2):copy(flat:narrow(1, at, ix:nElement()))
              at = at + ix:nElement()
              batch[i] = t
           end
           return batch
        end
        function m:updateGradInput(flat, gradOutput)
           self.gradInput = flat.new():resizeAs(flat):zero()
           return self.gradInput
        end
        local x = torch.Tensor(5)
        return nn.Jacobian.testJacobianParameters(m, x, target.weight, target.gradWeight),
               nn.Jacobian.testJacobianParameters(m, x, target.bias, target.gradBias),
               nn.Jacobian.testJacobianUpdateParameters(m, x, target.weight)
    end)()""")
    assert max(res) < 1e-6


def test_max_unpooling_by_jacobian(lua):
    res = lua.eval("""(function()
        torch.manualSeed(2)
        local errs = {}
        for _, size in ipairs({{2, 6, 4}, {2, 2, 6, 4}}) do
           local pool = nn.SpatialMaxPooling(2, 2)
           local unpool = nn.SpatialMaxUnpooling(pool)
           local pooled = pool:forward(torch.rand(torch.LongStorage(size)))
           errs[#errs + 1] = nn.Jacobian.testJacobian(unpool, pooled:clone())
        end
        return errs
    end)()""")
    assert len(res) == 2 and max(res.values()) < 1e-6


# --- what finite differences cannot check ----------------------------------------------

def arr(lua, expr):
    return np.array(lua.eval(expr))


def rnd(shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


def test_dropout_training_gradient_is_the_mask(lua):
    x, g = rnd((4, 5)), rnd((4, 5), 1)
    lua["x"], lua["g"] = x, g
    for ctor, scale in [("nn.Dropout(0.3)", 1 / 0.7), ("nn.Dropout(0.3, true)", 1.0)]:
        lua.execute(f"torch.manualSeed(4); m = {ctor}; y = m:forward(x); gi = m:backward(x, g)")
        noise = arr(lua, "m.noise").reshape(4, 5)
        assert set(np.unique(noise)) == {0.0, 1.0}
        np.testing.assert_allclose(arr(lua, "y"), x * noise * scale)
        np.testing.assert_allclose(arr(lua, "gi"), g * noise * scale)
    # version 1 scales in evaluation; version 2 passes the gradient through
    lua.execute("m = nn.Dropout(0.3, true):evaluate(); m:forward(x); gi = m:backward(x, g)")
    np.testing.assert_allclose(arr(lua, "gi"), 0.7 * g)
    lua.execute("m = nn.Dropout(0.3):evaluate(); m:forward(x); gi = m:backward(x, g)")
    np.testing.assert_allclose(arr(lua, "gi"), g)


def test_rrelu_training_gradient_uses_the_drawn_slopes(lua):
    x, g = rnd((3, 6)), rnd((3, 6), 1)
    lua["x"], lua["g"] = x, g
    lua.execute("torch.manualSeed(8); m = nn.RReLU(0.1, 0.4); y = m:forward(x); gi = m:backward(x, g)")
    a = arr(lua, "m.noise").reshape(x.shape)
    assert ((a >= 0.1) & (a <= 0.4)).all()
    np.testing.assert_allclose(arr(lua, "y"), np.where(x >= 0, x, x * a))
    np.testing.assert_allclose(arr(lua, "gi"), np.where(x > 0, g, g * a))


@pytest.mark.parametrize("ctor,expected", [
    ("nn.ELU(0.5, true)", lambda x, g: np.where(x > 0, g, g * 0.5 * np.exp(x))),
    ("nn.LeakyReLU(0.2, true)", lambda x, g: np.where(x > 0, g, 0.2 * g)),
    ("nn.HardTanh(-0.5, 0.5, true)", lambda x, g: np.where(np.abs(x) < 0.5, g, 0)),
    ("nn.RReLU(0.1, 0.3, true):evaluate()", lambda x, g: np.where(x > 0, g, 0.2 * g)),
    ("cudnn.ReLU(true)", lambda x, g: np.where(x > 0, g, 0)),
    ("nn.Dropout(0.5, false, true):evaluate()", lambda x, g: g),
])
def test_in_place_modules_write_the_gradient_over_grad_output(lua, ctor, expected):
    x, g = rnd((3, 4), 2), rnd((3, 4), 3)
    lua["x"], lua["g"] = x, g
    lua.execute(f"m = {ctor}; xin = x:clone(); gin = g:clone(); y = m:forward(xin); gi = m:backward(xin, gin)")
    assert lua.eval("y == xin and torch.pointer(gi) == torch.pointer(gin)")
    np.testing.assert_allclose(arr(lua, "gi"), expected(x, g), rtol=1e-12)


@pytest.mark.parametrize("ctor,restore", [("nn.MulConstant(-3, true)", None), ("nn.AddConstant(2, true)", None),
                                          ("nn.AddConstant(torch.Tensor({1, 2, 3, 4}), true)", None)])
def test_in_place_constants_give_the_input_back(lua, ctor, restore):
    x, g = rnd((3, 4), 4), rnd((3, 4), 5)
    lua["x"], lua["g"] = x, g
    lua.execute(f"m = {ctor}; xin = x:clone(); y = m:forward(xin); gi = m:backward(xin, g:clone())")
    np.testing.assert_allclose(arr(lua, "xin"), x, rtol=1e-12)
    c = -3 if "MulConstant" in ctor else 1
    np.testing.assert_allclose(arr(lua, "gi"), c * g, rtol=1e-12)


def test_gradient_reversal_scales_by_minus_lambda(lua):
    x, g = rnd((3, 4)), rnd((3, 4), 1)
    lua["x"], lua["g"] = x, g
    lua.execute("m = nn.GradientReversal(0.7); y = m:forward(x); gi = m:backward(x, g)")
    np.testing.assert_array_equal(arr(lua, "y"), x)
    np.testing.assert_allclose(arr(lua, "gi"), -0.7 * g, rtol=1e-15)
    lua.execute("m:setLambda(2); gi = m:backward(x, g)")
    np.testing.assert_allclose(arr(lua, "gi"), -2 * g, rtol=1e-15)


def test_zero_grad_and_identity(lua):
    x, g = rnd((3, 4)), rnd((3, 4), 1)
    lua["x"], lua["g"] = x, g
    np.testing.assert_array_equal(arr(lua, "nn.ZeroGrad():backward(x, g)"), np.zeros((3, 4)))
    lua.execute("m = nn.ZeroGrad(); gi = m:backward({x, {x:narrow(2, 1, 2)}}, {g, {g:narrow(2, 1, 2)}})")
    assert lua.eval("#gi == 2 and gi[1]:sum() == 0 and gi[2][1]:sum() == 0 and gi[2][1]:size(2) == 2")
    # OneHot: indices get a zero gradient (a number: 0)
    lua.execute("oh = nn.OneHot(5); idx = torch.LongTensor({2, 5, 1}); oh:forward(idx)")
    assert lua.eval("(function() local g = oh:backward(idx, torch.randn(3, 5))"
                    " return g:nElement() == 3 and g:abs():sum() == 0 end)()")
    assert lua.eval("nn.OneHot(5):updateGradInput(3, torch.randn(5))") == 0
    assert lua.eval("torch.type(oh.gradInput)") == "torch.DoubleTensor"
    np.testing.assert_array_equal(arr(lua, "nn.OneHot(5):forward(3)"), [0, 0, 1, 0, 0])
    # Identity hands back what it was given, tables too
    assert lua.eval("(function() local t = {g, g} return nn.Identity():backward({x, x}, t) == t end)()")


def test_contiguous_copies_a_strided_grad_output_only(lua):
    lua["x"], lua["g"] = rnd((4, 3)), rnd((3, 4), 1)
    assert lua.eval("(function() local m = nn.Contiguous(); m:forward(x)"
                    " local go = g:t(); local gi = m:backward(x, go)"
                    " return gi:isContiguous() and (gi - go):abs():max() == 0 and gi ~= go end)()")
    assert lua.eval("(function() local m = nn.Contiguous(); m:forward(x); local go = g:t():contiguous()"
                    " return m:backward(x, go) == go end)()")


def test_l1_penalty_adds_the_penalty_gradient(lua):
    x, g = rnd((3, 4)), rnd((3, 4), 1)
    lua["x"], lua["g"] = x, g
    np.testing.assert_allclose(arr(lua, "(function() local m = nn.L1Penalty(0.3); m:forward(x);"
                                        " return m:backward(x, g) end)()"), g + 0.3 * np.sign(x))
    np.testing.assert_allclose(arr(lua, "(function() local m = nn.L1Penalty(0.3, true, false); m:forward(x);"
                                        " return m:backward(x, g) end)()"), 0.3 / 12 * np.sign(x))


def test_max_min_send_the_gradient_to_the_first_extremum(lua):
    x = np.array([[1.0, 5.0, 5.0, 2.0], [3.0, np.nan, 0.0, np.nan], [-1.0, -1.0, 4.0, -2.0]])
    g = np.array([10.0, 20.0, 30.0])
    lua["x"], lua["g"] = x, g
    gmax = arr(lua, "(function() local m = nn.Max(2); m:forward(x); return m:backward(x, g) end)()")
    np.testing.assert_array_equal(gmax, [[0, 10, 0, 0], [0, 20, 0, 0], [0, 0, 30, 0]])
    gmin = arr(lua, "(function() local m = nn.Min(2); m:forward(x); return m:backward(x, g) end)()")
    np.testing.assert_array_equal(gmin, [[10, 0, 0, 0], [0, 20, 0, 0], [0, 0, 0, 30]])
    assert np.isnan(arr(lua, "nn.Max(2):forward(x)")[1])


def test_index_and_masked_select_gradients(lua):
    t, go = rnd((4, 3)), rnd((5, 3), 1)
    lua["t"], lua["go"] = t, go
    lua.execute("m = nn.Index(1); idx = torch.LongTensor({2, 4, 2, 1, 2}); m:forward({t, idx})"
                "; gi = m:backward({t, idx}, go)")
    ref = np.zeros((4, 3))
    for i, k in enumerate([2, 4, 2, 1, 2]):
        ref[k - 1] += go[i]
    np.testing.assert_allclose(arr(lua, "gi[1]"), ref)
    np.testing.assert_array_equal(arr(lua, "gi[2]"), np.zeros(5))
    mask = np.random.default_rng(2).random((4, 3)) > 0.5
    lua["mask"] = mask.astype(np.uint8)
    lua.execute("ms = nn.MaskedSelect(); bmask = torch.ByteTensor(4, 3):copy(mask); y = ms:forward({t, bmask})")
    lua["g2"] = rnd(int(mask.sum()), 3)
    lua.execute("gi = ms:backward({t, bmask}, g2)")
    ref = np.zeros((4, 3))
    ref[mask] = np.array(lua.eval("g2"))
    np.testing.assert_allclose(arr(lua, "gi[1]"), ref)
    assert lua.eval("torch.type(gi[2]) == 'torch.ByteTensor' and gi[2]:sum() == 0")


def test_lookup_table_gradient_rows(lua):
    idx = np.array([[1, 3, 3], [5, 2, 3]])
    g = rnd((2, 3, 4), 1)
    lua["idx"], lua["g"] = idx.astype(np.int64), g
    lua.execute("x = torch.LongTensor(2, 3):copy(idx)")
    for ctor, pad, freq in [("nn.LookupTable(6, 4)", 0, False), ("nn.LookupTable(6, 4, 3)", 3, False),
                            ("nn.LookupTable(6, 4):scaleGradByFreq()", 0, True)]:
        lua.execute(f"m = {ctor}; m:zeroGradParameters(); m:forward(x); gi = m:backward(x, g, 0.5)")
        ref = np.zeros((6, 4))
        counts = np.bincount(idx.ravel(), minlength=7)
        for k, row in zip(idx.ravel(), g.reshape(-1, 4)):
            if k != pad:
                ref[k - 1] += 0.5 * row / (counts[k] if freq else 1)
        np.testing.assert_allclose(arr(lua, "m.gradWeight"), ref, rtol=1e-12)
        np.testing.assert_array_equal(arr(lua, "gi"), np.zeros((2, 3)))
    # accUpdateOnly: no gradWeight, the step goes straight into the weight
    lua.execute("m = nn.LookupTable(6, 4):accUpdateOnly(); w0 = m.weight:clone(); m:forward(x)"
                "; m:backwardUpdate(x, g, 0.1)")
    ref = np.array(lua.eval("w0"))
    for k, row in zip(idx.ravel(), g.reshape(-1, 4)):
        ref[k - 1] -= 0.1 * row
    np.testing.assert_allclose(arr(lua, "m.weight"), ref, rtol=1e-12)
    assert lua.eval("m.gradWeight == nil")


def test_sparse_linear_matches_dense_linear(lua):
    """Sparse samples against nn.Linear on the dense vectors: outputs, parameter gradients
    (weightDecay added as THNN does) and the gradInput in Torch7's (index, value) layout."""
    lua.execute("""
        torch.manualSeed(6)
        sl = nn.SparseLinear(6, 3, true)
        sl.weightDecay = 0.01
        lin = nn.Linear(6, 3)
        lin.weight:copy(sl.weight); lin.bias:copy(sl.bias)
        samples = {torch.Tensor({{1, 0.5}, {4, -1}, {6, 2}}), torch.Tensor({{2, 3}, {4, 0.25}})}
        dense = torch.zeros(2, 6)
        for i, s in ipairs(samples) do
           for k = 1, s:size(1) do dense[i][s[k][1]] = s[k][2] end
        end
        go = torch.randn(2, 3)
        sl:zeroGradParameters(); lin:zeroGradParameters()
        ys, yl = sl:forward(samples), lin:forward(dense)
        gs, gl = sl:backward(samples, go, 0.5), lin:backward(dense, go, 0.5)
        legacy = torch.zeros(2, 3, 2)
        legacy[1]:copy(samples[1]); legacy[2]:narrow(1, 1, 2):copy(samples[2]); legacy[2][3][1] = 1
    """)
    np.testing.assert_allclose(arr(lua, "ys"), arr(lua, "yl"), rtol=1e-12)
    np.testing.assert_allclose(arr(lua, "sl.gradWeight"),
                               arr(lua, "lin.gradWeight") + 0.01 * arr(lua, "sl.weight"), rtol=1e-12)
    np.testing.assert_allclose(arr(lua, "sl.gradBias"), arr(lua, "lin.gradBias"), rtol=1e-12)
    assert lua.eval("#gs") == 2
    for i in (1, 2):
        gi = arr(lua, f"gs[{i}]")
        np.testing.assert_array_equal(gi[:, 0], np.arange(1, 7))
        np.testing.assert_allclose(gi[:, 1], arr(lua, f"gl[{i}]"), rtol=1e-12)
    # one sample (nnz x 2): a table of one; legacy 3D batch: one tensor
    assert lua.eval("#sl:backward(samples[1], go[1]) == 1")
    lua.execute("sl:forward(legacy); gleg = sl:backward(legacy, go)")
    assert tuple(arr(lua, "gleg").shape) == (2, 6, 2)
    assert lua.eval("#nn.SparseLinear(6, 3):backward(samples, go) == 0")


def test_narrow_negative_offset_keeps_all_but_the_last(lua):
    x, g = rnd((3, 10, 4)), rnd((3, 3, 4), 1)
    lua["x"], lua["g"] = x, g
    np.testing.assert_array_equal(arr(lua, "nn.Narrow(2, -1, 7):forward(x)"), x[:, :3])
    gi = arr(lua, "(function() local m = nn.Narrow(2, -1, 7); m:forward(x); return m:backward(x, g) end)()")
    ref = np.zeros_like(x)
    ref[:, :3] = g
    np.testing.assert_array_equal(gi, ref)


def test_all_updates_agree(lua):
    """nn.Jacobian.testAllUpdate: accGradParameters + updateParameters, accUpdateGradParameters
    and both on two clones sharing the parameter take the same SGD step."""
    res = lua.eval("""(function()
        torch.manualSeed(9)
        local errs = {}
        local cases = {
           {nn.CMul(3, 4), torch.randn(2, 3, 4), 'weight', 'gradWeight'},
           {nn.Add(4), torch.randn(3, 4), 'bias', 'gradBias'},
           {nn.PReLU(3), torch.randn(4, 3), 'weight', 'gradWeight'},
           {nn.Euclidean(4, 3), torch.randn(2, 4), 'weight', 'gradWeight'},
           {nn.WeightedEuclidean(4, 3), torch.randn(2, 4), 'diagCov', 'gradDiagCov'},
           {nn.Cosine(4, 3), torch.randn(2, 4), 'weight', 'gradWeight'},
           {nn.SpatialSubSampling(2, 2, 2), torch.randn(2, 4, 4), 'bias', 'gradBias'},
           {nn.SpatialConvolutionMap(nn.tables.full(2, 2), 2, 2), torch.randn(2, 4, 4), 'weight', 'gradWeight'},
           {nn.LookupTable(5, 3), torch.LongTensor({1, 4, 4}), 'weight', 'gradWeight'},
           {nn.Bilinear(2, 3, 2), {torch.randn(4, 2), torch.randn(4, 3)}, 'weight', 'gradWeight'},
        }
        for _, c in ipairs(cases) do
           for k, e in pairs(nn.Jacobian.testAllUpdate(c[1], c[2], c[3], c[4])) do
              errs[#errs + 1] = {torch.type(c[1]) .. ' ' .. k, e}
           end
        end
        return errs
    end)()""")
    errs = [tuple(v.values()) for v in res.values()]
    assert len(errs) == 10 * 4
    for what, err in errs:
        assert err < 1e-10, (what, err)


def test_spatial_normalization_against_numpy_formula(lua):
    """Subtractive normalisation's gradInput written out: y_c = x_c - m, m = conv(sum_c x) / coef."""
    x, g = rnd((2, 5, 6)), rnd((2, 5, 6), 1)
    lua["x"], lua["g"] = x, g
    gi = arr(lua, "(function() local m = nn.SpatialSubtractiveNormalization(2, torch.ones(3, 3))"
                  " m:forward(x); return m:backward(x, g) end)()")
    kn = np.ones((3, 3)) / 18

    def conv(p):
        q = np.pad(p, 1)
        return sum(kn[i, j] * q[i:i + 5, j:j + 6] for i in range(3) for j in range(3))

    coef = conv(np.full((5, 6), 2.0))
    # adjoint of conv: correlation with the flipped (here symmetric) kernel
    ref = g - conv(g.sum(axis=0) / coef)[None]
    np.testing.assert_allclose(gi, ref, rtol=1e-10, atol=1e-12)


def test_backward_errors_name_the_module_and_the_sizes(lua):
    lua["x"] = rnd((3, 4))
    with pytest.raises(st.LuaError, match=r"<nn.Abs> gradOutput has 5 elements but input has 12"):
        lua.execute("m = nn.Abs(); m:forward(x); m:backward(x, torch.randn(5))")
    with pytest.raises(st.LuaError, match=r"<nn.Sum> gradOutput must have the 3 elements of the output"):
        lua.execute("m = nn.Sum(2); m:forward(x); m:backward(x, torch.randn(4))")
    with pytest.raises(st.LuaError, match=r"<nn.SpatialSubSampling> gradOutput of size 2x2x3 expected"):
        lua.execute("m = nn.SpatialSubSampling(2, 2, 2); y = m:forward(torch.randn(2, 3, 4)); "
                    "m:backward(torch.randn(2, 3, 4), torch.randn(2, 3, 3))")
    with pytest.raises(st.LuaError, match=r"<nn.CMul> parameter of size 1x5 does not broadcast"):
        lua.execute("m = nn.CMul(1, 5); m:backward(x, x)")
    with pytest.raises(st.LuaError, match=r"<nn.Dropout> no dropout mask for this input"):
        lua.execute("m = nn.Dropout(0.5); m:forward(x); m:backward(torch.randn(2, 2), torch.randn(2, 2))")


def test_trains_a_small_model_of_these_modules_like_numpy(lua):
    """Three SGD steps through CMul, Add, PReLU, SoftMax and Sum (plus Linear) give the same
    parameters as the same steps written in NumPy."""
    rng = np.random.default_rng(12)
    x = rng.standard_normal((5, 4))
    lua["x"] = x
    lua.execute("""
        torch.manualSeed(13)
        net = nn.Sequential():add(nn.CMul(4)):add(nn.Add(4)):add(nn.PReLU())
                             :add(nn.Linear(4, 3)):add(nn.SoftMax()):add(nn.Sum(2))
        p0 = {}
        for i, t in ipairs(net:parameters()) do p0[i] = t:clone() end
        for step = 1, 3 do
           net:zeroGradParameters()
           local y = net:forward(x)
           net:backward(x, torch.Tensor(5):fill(1))   -- d(sum y)/dy
           net:updateParameters(0.1)
        end
    """)
    w_c, b_a, a, w_l, b_l = (np.array(lua.eval(f"p0[{i}]")) for i in range(1, 6))
    for _ in range(3):
        h1 = x * w_c
        h2 = h1 + b_a
        h3 = np.where(h2 > 0, h2, a[0] * h2)
        z = h3 @ w_l.T + b_l
        e = np.exp(z - z.max(axis=1, keepdims=True))
        s = e / e.sum(axis=1, keepdims=True)
        gs = np.ones_like(s)
        gz = s * (gs - (gs * s).sum(axis=1, keepdims=True))
        g_wl, g_bl = gz.T @ h3, gz.sum(axis=0)
        g3 = gz @ w_l
        g_a = np.array([(g3 * h2)[h2 <= 0].sum()])
        g2 = np.where(h2 > 0, g3, a[0] * g3)
        g_ba, g_wc = g2.sum(axis=0), (g2 * x).sum(axis=0)
        w_c, b_a, a, w_l, b_l = (w_c - 0.1 * g_wc, b_a - 0.1 * g_ba, a - 0.1 * g_a,
                                 w_l - 0.1 * g_wl, b_l - 0.1 * g_bl)
    for i, ref in enumerate([w_c, b_a, a, w_l, b_l], start=1):
        np.testing.assert_allclose(np.array(lua.eval(f"net:parameters()[{i}]")), ref, rtol=1e-10)
    assert math.isfinite(float(lua.eval("net.output:sum()")))


# --- the fast paths the training benchmark takes ----------------------------------------

def numpy_max_pool_grad(x, g, k):
    """gradInput of a k x k, stride k max pooling: each gradient to the first maximum."""
    n, c, h, w = x.shape
    ref = np.zeros_like(x)
    for i in range(h // k):
        for j in range(w // k):
            win = x[:, :, k * i:k * i + k, k * j:k * j + k].reshape(n, c, k * k)
            a = win.argmax(axis=2)
            for q in range(n):
                for p in range(c):
                    ref[q, p, k * i + a[q, p] // k, k * j + a[q, p] % k] += g[q, p, i, j]
    return ref


@pytest.mark.parametrize("after", ["", "nn.MulConstant(1.5, true)", "nn.ReLU(true)"])
def test_max_pooling_gradient_from_its_output(lua, after):
    """Without saved indices the gradient is routed by comparing the input with forward's
    output (ties: the first); an in-place module after the pooling that changed that
    output sends it back to the index search, with the same result."""
    x = rnd((2, 3, 6, 8), 7)
    x[0, 0, :2, :2] = 0.5   # a tie: the first position wins
    g = rnd((2, 3, 3, 4), 8)
    lua["x"], lua["g"] = x, g.copy()   # an in-place module writes over the Lua tensor
    lua.execute(f"net = nn.Sequential():add(nn.SpatialMaxPooling(2, 2))"
                f"{':add(' + after + ')' if after else ''}; net:forward(x)")
    if after == "nn.ReLU(true)":
        g = g * (np.array(lua.eval("net.output")) > 0)
    gi = arr(lua, "net:backward(x, g)")
    scale = 1.5 if "MulConstant" in after else 1.0
    np.testing.assert_allclose(gi, numpy_max_pool_grad(x, g * scale, 2), rtol=1e-12)


def test_relu_gradient_of_a_large_input(lua):
    """From 32768 elements the ReLU/Threshold gradient runs in NumPy, in place too."""
    x, g = rnd((64, 1024), 9), rnd((64, 1024), 10)
    lua["x"], lua["g"] = x, g
    for ctor in ["nn.ReLU()", "nn.Threshold(0.3, -1)", "cudnn.ReLU()"]:
        th = 0.3 if "0.3" in ctor else 0.0
        gi = arr(lua, f"(function() local m = {ctor}; m:forward(x); return m:backward(x, g) end)()")
        np.testing.assert_array_equal(gi, np.where(x > th, g, 0))
    lua.execute("m = nn.ReLU(true); xin = x:clone(); gin = g:clone(); m:forward(xin); gi = m:backward(xin, gin)")
    assert lua.eval("torch.pointer(gi) == torch.pointer(gin)")
    np.testing.assert_array_equal(arr(lua, "gi"), np.where(x > 0, g, 0))


def test_stride_one_convolution_gradient_is_a_convolution(lua):
    """The stride-1 gradInput (run as a convolution with the flipped weight) equals the
    gradient written as sums, with padding, dilation and groups."""
    lua.execute("m = nn.SpatialDilatedConvolution(4, 6, 3, 2, 1, 1, 1, 2, 2, 1)")
    x, g = rnd((2, 4, 6, 7), 11), None
    lua["x"] = x
    out = arr(lua, "m:forward(x)")
    g = rnd(out.shape, 12)
    lua["g"] = g
    gi = arr(lua, "m:updateGradInput(x, g)")
    w = arr(lua, "m.weight")          # (out, in, kH = 2, kW = 3); padH 2, padW 1, dilH 1, dilW 2
    ref = np.zeros((2, 4, 6 + 4, 7 + 2))
    for i in range(out.shape[2]):
        for j in range(out.shape[3]):
            for a in range(2):
                for b in range(3):
                    ref[:, :, i + a, j + 2 * b] += np.einsum("no,oc->nc", g[:, :, i, j], w[:, :, a, b])
    np.testing.assert_allclose(gi, ref[:, :, 2:-2, 1:-1], rtol=1e-10, atol=1e-12)
