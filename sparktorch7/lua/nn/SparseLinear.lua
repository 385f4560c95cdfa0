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

function SparseLinear:updateOutput(input)
   local W = pointwise.contiguous(self.weight)
   local nOut, nIn = W:size(1), W:size(2)
   local w, b = W:data(), pointwise.paramData(self.bias, nOut, 'nn.SparseLinear', 'bias')
   local samples
   if type(input) == 'table' and not torch.isTensor(input) then
      samples = input
   elseif input:dim() == 3 then
      samples = {}
      for i = 1, input:size(1) do samples[i] = input:select(1, i) end
   elseif input:dim() == 2 and input:size(2) == 2 then
      local out = kernels.output(self, W, torch.LongStorage({nOut}))
      accumulate(out:data(), 0, w, b, nOut, nIn, input)
      return out
   else
      error('<nn.SparseLinear> input must be an nnz x 2 tensor, a batch of them, or a table of them', 2)
   end
   local out = kernels.output(self, W, torch.LongStorage({#samples, nOut}))
   local yp = out:data()
   for i, s in ipairs(samples) do
      accumulate(yp, (i - 1) * nOut, w, b, nOut, nIn, s)
   end
   return out
end

return SparseLinear
