local schema = require('nn.schema')
local SpatialUpSamplingNearest, parent = torch.class('nn.SpatialUpSamplingNearest', 'nn.Module')

schema.declare(SpatialUpSamplingNearest, {
   {'scale_factor', 'posint'},
})
local ops = require 'nn.spatial_ops'
local kernels = require 'nn.kernels'

-- Each pixel becomes a scale x scale block.
function SpatialUpSamplingNearest:__init(scale)
   parent.__init(self)
   self.scale_factor = scale
   if type(scale) ~= 'number' or scale < 1 then
      error('<nn.SpatialUpSamplingNearest> scale_factor must be greater than 1', 2)
   end
   if math.floor(scale) ~= scale then
      error('<nn.SpatialUpSamplingNearest> scale_factor must be integer', 2)
   end
   self.inputSize = torch.LongStorage(4)
   self.outputSize = torch.LongStorage(4)
end

function SpatialUpSamplingNearest:updateGradInput(input, gradOutput)
   ops.checkGradOutput(self, input, gradOutput)
   local gin = kernels.output(self, input, nil, 'gradInput')
   kernels.upsample_nearest_grad(gin, gradOutput, self.scale_factor)
   return gin
end

function SpatialUpSamplingNearest:accGradParameters(input, gradOutput, scale)
end

function SpatialUpSamplingNearest:updateOutput(input)
   local dim = ops.checkDim(self, input, 3, 4, '3D or 4D (batch mode)')
   local s = self.scale_factor
   local out = kernels.output(self, input, ops.withTail(input, dim - 2,
                              {input:size(dim - 1) * s, input:size(dim) * s}))
   kernels.upsample_nearest(out, input, s)
   return out
end
