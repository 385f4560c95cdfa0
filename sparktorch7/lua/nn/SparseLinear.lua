-- nn.SparseLinear: y = W x + b for sparse x given as an nnz x 2 tensor of
-- (index, value) pairs (1-based indices); a batch is a table of them or an
-- N x nnz x 2 tensor.
local pointwise = require('nn.pointwise')
local kernels = require('nn.kernels')
local schema = require('nn.schema')
local SparseLinear, parent = torch.class('nn.SparseLinear', 'nn.Module')

schema.declare(SparseLinear, {
   {'weight', 'tensor', dim = 2},
   {'bias', 'tensor', size = {'outputSize'}},
   {'weightDecay', 'number?'}, {'doGradInput', 'boolean?'},
   {'gradWeight', 'tensor?'}, {'gradBias', 'tensor?'},
   outputSize = 'weight:size(1)',
})

function SparseLinear:__init(inputSize, outputSize, doGradInput)
   parent.__init(self)
   self.weightDecay = 0
   self.doGradInput = doGradInput or false
   self.weight = torch.Tensor(outputSize, inputSize):zero()
   self.bias = torch.Tensor(outputSize):zero()
   self.gradWeight = torch.Tensor(outputSize, inputSize):zero()
   self.gradBias = torch.Tensor(outputSize):zero()
   self:reset()
end

function SparseLinear:reset(stdv)
   if stdv then
      stdv = stdv * math.sqrt(3)
   else
      stdv = 1 / math.sqrt(self.weight:size(2))
   end
   self.weight:uniform(-stdv, stdv)
   self.bias:uniform(-stdv, stdv):mul(0.000001)
   return self
end

-- y (pointer, nOut values from offset) = W x + b for one sparse sample
local function accumulate(yp, offset, w, b, nOut, nIn, pairs2d)
   local p = pointwise.contiguous(pairs2d)
   local pp, nnz = p:data(), p:size(1)
   for j = 0, nOut - 1 do
      yp[offset + j] = b[j]
   end
   for k = 0, nnz - 1 do
      local idx = tonumber(pp[2 * k])
      local v = pp[2 * k + 1]
      if idx < 1 or idx > nIn then
         error(string.format('<nn.SparseLinear> index %d out of range [1, %d]', idx, nIn), 3)
      end
      for j = 0, nOut - 1 do
         yp[offset + j] = yp[offset + j] + w[j * nIn + idx - 1] * v
      end
   end
end

-- The samples of an input: a list of nnz x 2 tensors, whether it is batched (a table or a
-- 3D tensor: the output has a row per sample) and whether it is the legacy 3D form.
local function samplesOf(input, name)
   if type(input) == 'table' and not torch.isTensor(input) then
      return input, true, false
   elseif torch.isTensor(input) and input:dim() == 3 then
      local samples = {}
      for i = 1, input:size(1) do samples[i] = input:select(1, i) end
      return samples, true, true
   elseif torch.isTensor(input) and input:dim() == 2 and input:size(2) == 2 then
      return {input}, false, false
   end
   error(string.format('<%s> input must be an nnz x 2 tensor, a batch of them, or a table of them', name), 3)
end

function SparseLinear:updateOutput(input)
   local W = pointwise.contiguous(self.weight)
   local nOut, nIn = W:size(1), W:size(2)
   local w, b = W:data(), pointwise.paramData(self.bias, nOut, 'nn.SparseLinear', 'bias')
   local samples, batched = samplesOf(input, 'nn.SparseLinear')
   local out = kernels.output(self, W, batched and torch.LongStorage({#samples, nOut})
                                             or torch.LongStorage({nOut}))
   local yp = out:data()
   for i, s in ipairs(samples) do
      accumulate(yp, (i - 1) * nOut, w, b, nOut, nIn, s)
   end
   return out
end

-- gradOutput as contiguous rows, one per sample
local function gradRows(gradOutput, count, nOut)
   if not torch.isTensor(gradOutput) or gradOutput:nElement() ~= count * nOut then
      error(string.format('<nn.SparseLinear> gradOutput must hold %d x %d values (samples x outputSize)',
                          count, nOut), 3)
   end
   return pointwise.contiguous(gradOutput):data()
end

-- dE/dW[j][idx] += scale value dE/dy_j for each (idx, value) of a sample, dE/db += scale
-- dE/dy; then weightDecay * W is added to gradWeight, as THNN does.
function SparseLinear:accGradParameters(input, gradOutput, scale)
   scale = scale or 1
   local nOut, nIn = self.weight:size(1), self.weight:size(2)
   local samples = samplesOf(input, 'nn.SparseLinear')
   local go = gradRows(gradOutput, #samples, nOut)
   for _, f in ipairs({{'gradWeight', self.weight}, {'gradBias', self.bias}}) do
      if not torch.isTensor(self[f[1]]) or self[f[1]]:nElement() ~= f[2]:nElement() then
         self[f[1]] = f[2].new():resizeAs(f[2]):zero()
      end
   end
   local gwt, gbt = pointwise.contiguous(self.gradWeight), pointwise.contiguous(self.gradBias)
   local gw, gb = gwt:data(), gbt:data()
   for i, sample in ipairs(samples) do
      local p = pointwise.contiguous(sample)
      local pp, nnz, row = p:data(), p:size(1), (i - 1) * nOut
      for j = 0, nOut - 1 do
         gb[j] = gb[j] + scale * go[row + j]
      end
      for k = 0, nnz - 1 do
         local idx = tonumber(pp[2 * k])
         if idx < 1 or idx > nIn then
            error(string.format('<nn.SparseLinear> index %d out of range [1, %d]', idx, nIn), 2)
         end
         local v = scale * pp[2 * k + 1]
         for j = 0, nOut - 1 do
            local at = j * nIn + idx - 1
            gw[at] = gw[at] + v * go[row + j]
         end
      end
   end
   if gwt ~= self.gradWeight then self.gradWeight:copy(gwt) end
   if gbt ~= self.gradBias then self.gradBias:copy(gbt) end
   if (self.weightDecay or 0) ~= 0 then
      self.gradWeight:add(self.weightDecay, self.weight)
   end
end

-- With doGradInput, the dense gradient dE/dx = W' dE/dy of each sample, given as Torch7 does:
-- an inputSize x 2 tensor of (index, gradient) pairs per sample, in a table (a table even for
-- one nnz x 2 sample), or one batch x inputSize x 2 tensor for the legacy 3D input. Without
-- it: an empty table (zeros like the input for the legacy form).
function SparseLinear:updateGradInput(input, gradOutput)
   local nOut, nIn = self.weight:size(1), self.weight:size(2)
   local samples, _, legacy = samplesOf(input, 'nn.SparseLinear')
   if not self.doGradInput then
      if legacy then
         self.gradInput = pointwise.zeroGrad(self, input, gradOutput)
      else
         self.gradInput = {}
      end
      return self.gradInput
   end
   gradRows(gradOutput, #samples, nOut)
   local go = pointwise.contiguous(gradOutput):view(#samples, nOut)
   local dense = go.new():resize(#samples, nIn):zero()
   dense:addmm(0, dense, 1, go, self.weight)
   if legacy then
      local gi = pointwise.gradLike(self, input, gradOutput):resize(#samples, nIn, 2)
      for i = 1, #samples do
         gi:select(1, i):select(2, 1):copy(torch.range(1, nIn))
      end
      gi:select(3, 2):copy(dense)
      self.gradInput = gi
   else
      self.gradInput = {}
      for i = 1, #samples do
         local gi = go.new():resize(nIn, 2)
         gi:select(2, 1):copy(torch.range(1, nIn))
         gi:select(2, 2):copy(dense:select(1, i))
         self.gradInput[i] = gi
      end
   end
   return self.gradInput
end

return SparseLinear
