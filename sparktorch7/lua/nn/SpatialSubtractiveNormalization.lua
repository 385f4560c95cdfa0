local schema = require('nn.schema')
local SpatialSubtractiveNormalization, parent =
   torch.class('nn.SpatialSubtractiveNormalization', 'nn.Module')

schema.declare(SpatialSubtractiveNormalization, {
   {'nInputPlane', 'posint'}, {'kernel', 'tensor', dim = {1, 2}},
   {'threshold', 'number?'}, {'thresval', 'number?'},
})
local ops = require 'nn.spatial_ops'
local kernels = require 'nn.kernels'

-- Subtracts from each plane the local mean over all planes, weighted by an odd 1-D
-- or 2-D kernel and corrected at the borders. Torch7 built this from padding,
-- convolution and table modules; the same sums are computed here directly from
-- `kernel` and `nInputPlane` (see sparktorch7/_nn_ops.py, local_normalize).
function SpatialSubtractiveNormalization:__init(nInputPlane, kernel)
   parent.__init(self)
   self.nInputPlane = nInputPlane or 1
   self.kernel = kernel or torch.Tensor(9, 9):fill(1)
   local kdim = self.kernel:dim()
   if kdim ~= 2 and kdim ~= 1 then
      error('<' .. torch.type(self) .. '> averaging kernel must be 2D or 1D', 2)
   end
   if (self.kernel:size(1) % 2) == 0 or (kdim == 2 and (self.kernel:size(2) % 2) == 0) then
      error('<' .. torch.type(self) .. '> averaging kernel must have ODD dimensions', 2)
   end
   self.coef = torch.Tensor(1, 1, 1)
   self:_normalizeKernel()
end

-- Torch7 divides the kernel in place (the caller's tensor too) at construction, so
-- saved modules hold it normalised; the output does not depend on its scale.
function SpatialSubtractiveNormalization:_normalizeKernel()
   self.kernel:div(self.kernel:sum() * self.nInputPlane)
end

SpatialSubtractiveNormalization._mode = 'subtractive'

function SpatialSubtractiveNormalization:updateOutput(input)
   local dim = ops.checkDim(self, input, 3, 4, '3D or 4D (batch mode)')
   ops.checkPlanes(self, input, dim - 2, self.nInputPlane)
   local sizes = {}
   for i = 1, dim do sizes[i] = input:size(i) end
   local out = kernels.output(self, input, sizes)
   kernels.local_normalize(out, input, self.kernel, self._mode, self.threshold or 0,
                           self.thresval or 0)
   return out
end
