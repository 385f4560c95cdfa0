local schema = require('nn.schema')
local TemporalMaxPooling, parent = torch.class('nn.TemporalMaxPooling', 'nn.Module')

schema.declare(TemporalMaxPooling, {
   {'kW', 'posint'}, {'dW', 'posint'}, {'indices', 'tensor?'},
})
local ops = require 'nn.spatial_ops'
local kernels = require 'nn.kernels'

-- Max over windows of kW frames, stride dW, per feature.
function TemporalMaxPooling:__init(kW, dW)
   parent.__init(self)
   self.kW = kW
   self.dW = dW or kW
   self.indices = torch.LongTensor()
end

function TemporalMaxPooling:updateOutput(input)
   local dim = ops.checkDim(self, input, 2, 3, '2D or 3D (batch mode)')
   local nIn = input:size(dim - 1)
   if nIn < self.kW then
      ops.fail(self, 'input sequence smaller than kernel size. Got: %d, Expected: %d', nIn, self.kW)
   end
   local nOut = math.floor((nIn - self.kW) / self.dW) + 1
   local out = kernels.output(self, input, ops.withTail(input, dim - 2, {nOut, input:size(dim)}))
   kernels.temporal_max_pool(out, input, self.kW, self.dW)
   return out
end

function TemporalMaxPooling:updateGradInput(input, gradOutput)
   ops.checkGradOutput(self, input, gradOutput)
   local gin = kernels.output(self, input, nil, 'gradInput')
   kernels.temporal_max_pool_grad(gin, gradOutput, input, self.kW, self.dW)
   return gin
end

function TemporalMaxPooling:accGradParameters(input, gradOutput, scale)
end

function TemporalMaxPooling:clearState()
   if torch.isTensor(self.indices) then
      self.indices:set()
   end
   return parent.clearState(self)
end
