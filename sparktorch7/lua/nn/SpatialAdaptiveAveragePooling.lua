local schema = require('nn.schema')
local SpatialAdaptiveAveragePooling, parent =
   torch.class('nn.SpatialAdaptiveAveragePooling', 'nn.Module')

schema.declare(SpatialAdaptiveAveragePooling, {
   {'W', 'posint'}, {'H', 'posint'},
})
local ops = require 'nn.spatial_ops'
local kernels = require 'nn.kernels'

-- Output W x H whatever the input size: bin i of an axis of length n covers
-- [floor(i*n/o), ceil((i+1)*n/o)).
function SpatialAdaptiveAveragePooling:__init(W, H)
   parent.__init(self)
   self.W = W
   self.H = H
end

function SpatialAdaptiveAveragePooling:updateOutput(input)
   local dim = ops.checkDim(self, input, 3, 4, '3D or 4D (batch mode)')
   local out = kernels.output(self, input, ops.withTail(input, dim - 2, {self.H, self.W}))
   kernels.adaptive_pool2d(out, input, 'avg')
   return out
end

function SpatialAdaptiveAveragePooling:updateGradInput(input, gradOutput)
   ops.checkGradOutput(self, input, gradOutput)
   local gin = kernels.output(self, input, nil, 'gradInput')
   kernels.adaptive_pool2d_grad(gin, gradOutput, input, 'avg')
   return gin
end

function SpatialAdaptiveAveragePooling:accGradParameters(input, gradOutput, scale)
end

function SpatialAdaptiveAveragePooling:__tostring__()
   return string.format('%s(%dx%d)', torch.type(self), self.W, self.H)
end
