local schema = require('nn.schema')
local SpatialAdaptiveMaxPooling, parent =
   torch.class('nn.SpatialAdaptiveMaxPooling', 'nn.Module')

schema.declare(SpatialAdaptiveMaxPooling, {
   {'W', 'posint'}, {'H', 'posint'}, {'indices', 'tensor?'},
})
local ops = require 'nn.spatial_ops'
local kernels = require 'nn.kernels'

-- Output W x H whatever the input size: bin i of an axis of length n covers
-- [floor(i*n/o), ceil((i+1)*n/o)).
function SpatialAdaptiveMaxPooling:__init(W, H)
   parent.__init(self)
   self.W = W
   self.H = H
   self.indices = torch.LongTensor()
end

function SpatialAdaptiveMaxPooling:updateOutput(input)
   local dim = ops.checkDim(self, input, 3, 4, '3D or 4D (batch mode)')
   local out = kernels.output(self, input, ops.withTail(input, dim - 2, {self.H, self.W}))
   kernels.adaptive_pool2d(out, input, 'max')
   return out
end

function SpatialAdaptiveMaxPooling:updateGradInput(input, gradOutput)
   ops.checkGradOutput(self, input, gradOutput)
   local gin = kernels.output(self, input, nil, 'gradInput')
   kernels.adaptive_pool2d_grad(gin, gradOutput, input, 'max')
   return gin
end

function SpatialAdaptiveMaxPooling:accGradParameters(input, gradOutput, scale)
end

function SpatialAdaptiveMaxPooling:__tostring__()
   return string.format('%s(%dx%d)', torch.type(self), self.W, self.H)
end

function SpatialAdaptiveMaxPooling:clearState()
   if torch.isTensor(self.indices) then
      self.indices:set()
   end
   return parent.clearState(self)
end
