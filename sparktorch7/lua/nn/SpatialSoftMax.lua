local schema = require('nn.schema')
local SpatialSoftMax, parent = torch.class('nn.SpatialSoftMax', 'nn.Module')

schema.parameterless(SpatialSoftMax, 'a softmax across planes: no fields of its own')
local ops = require 'nn.spatial_ops'
local kernels = require 'nn.kernels'

-- exp(x) / sum exp(x) over the planes at each pixel: dim 1 of a (C, H, W) image, dim 2 of an
-- (N, C, H, W) batch; a vector or an (N, C) matrix is treated as 1x1 images.
function SpatialSoftMax:updateOutput(input)
   local dim = ops.checkDim(self, input, 1, 4, '1D, 2D, 3D or 4D')
   local sizes = {}
   for i = 1, dim do sizes[i] = input:size(i) end
   local out = kernels.output(self, input, sizes)
   local axis = (dim == 1 or dim == 3) and 0 or 1
   kernels.softmax(out, input, axis, false)
   return out
end

function SpatialSoftMax:updateGradInput(input, gradOutput)
   ops.checkGradOutput(self, input, gradOutput)
   local gin = kernels.output(self, input, nil, 'gradInput')
   local dim = input:dim()
   kernels.softmax_grad(gin, gradOutput, self.output, (dim == 1 or dim == 3) and 0 or 1, false)
   return gin
end

function SpatialSoftMax:accGradParameters(input, gradOutput, scale)
end
