local schema = require('nn.schema')
local VolumetricLogSoftMax, parent = torch.class('cudnn.VolumetricLogSoftMax', 'nn.Module')

schema.declare(VolumetricLogSoftMax, {
   {'ssm', 'module?'},
})
local ops = require 'nn.spatial_ops'
local kernels = require 'nn.kernels'

-- Log-softmax over the planes at each voxel of a (C, T, H, W) volume or an
-- (N, C, T, H, W) batch. cudnn.torch delegated to a cudnn.Spatial*SoftMax kept in
-- self.ssm; a saved ssm's algorithm is honoured.
function VolumetricLogSoftMax:__init(fast)
   parent.__init(self)
   self.ssm = cudnn.SpatialLogSoftMax(fast)
end

function VolumetricLogSoftMax:updateOutput(input)
   local dim = ops.checkDim(self, input, 4, 5, '4D or 5D (batch mode)')
   local sizes = {}
   for i = 1, dim do sizes[i] = input:size(i) end
   local out = kernels.output(self, input, sizes)
   local log = true
   if self.ssm and self.ssm.algorithm then
      log = self.ssm.algorithm == 'CUDNN_SOFTMAX_LOG'
   end
   kernels.softmax(out, input, dim == 4 and 0 or 1, log)
   return out
end
