local schema = require('nn.schema')
local SpatialSoftMax, parent = torch.class('cudnn.SpatialSoftMax', 'nn.SpatialSoftMax')

schema.declare(SpatialSoftMax, {
   {'algorithm', 'string?'}, {'mode', 'string?'},
})
local ops = require 'nn.spatial_ops'
local kernels = require 'nn.kernels'

-- cudnn's softmax: `mode` CHANNEL (over the planes at each pixel) or INSTANCE (over
-- everything but the batch dimension), `algorithm` FAST/ACCURATE (the same here) or
-- LOG (log-softmax). 1-D and 2-D inputs count as 1x1 images, 3-D as one image.
function SpatialSoftMax:__init(fast)
   parent.__init(self)
   if fast then
      self.algorithm = 'CUDNN_SOFTMAX_FAST'
   else
      self.algorithm = 'CUDNN_SOFTMAX_ACCURATE'
   end
end

function SpatialSoftMax:updateOutput(input)
   self.mode = self.mode or 'CUDNN_SOFTMAX_MODE_CHANNEL'
   self.algorithm = self.algorithm or 'CUDNN_SOFTMAX_ACCURATE'
   local dim = ops.checkDim(self, input, 1, 4, '1D, 2D, 3D or 4D')
   local sizes = {}
   for i = 1, dim do sizes[i] = input:size(i) end
   local out = kernels.output(self, input, sizes)
   local log = self.algorithm == 'CUDNN_SOFTMAX_LOG'
   if self.mode == 'CUDNN_SOFTMAX_MODE_INSTANCE' then
      -- per sample: the whole of a 1-D or 3-D input, each row of a 2-D or 4-D one
      kernels.softmax_flat(out, input, dim == 1 or dim == 3, log)
   else
      kernels.softmax(out, input, (dim == 1 or dim == 3) and 0 or 1, log)
   end
   return out
end

function SpatialSoftMax:updateGradInput(input, gradOutput)
   ops.checkGradOutput(self, input, gradOutput)
   local gin = kernels.output(self, input, nil, 'gradInput')
   local dim = input:dim()
   local log = self.algorithm == 'CUDNN_SOFTMAX_LOG'
   if self.mode == 'CUDNN_SOFTMAX_MODE_INSTANCE' then
      kernels.softmax_flat_grad(gin, gradOutput, self.output, dim == 1 or dim == 3, log)
   else
      kernels.softmax_grad(gin, gradOutput, self.output, (dim == 1 or dim == 3) and 0 or 1, log)
   end
   return gin
end

function SpatialSoftMax:clearDesc() return self end
