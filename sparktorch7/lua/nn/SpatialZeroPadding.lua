local schema = require('nn.schema')
local SpatialZeroPadding, parent = torch.class('nn.SpatialZeroPadding', 'nn.Module')

schema.declare(SpatialZeroPadding, {
   {'pad_l', 'int'}, {'pad_r', 'int'}, {'pad_t', 'int'}, {'pad_b', 'int'},
})
local ops = require 'nn.spatial_ops'
local kernels = require 'nn.kernels'

-- Pads the last two dims with zeros: pad_l/pad_r columns, pad_t/pad_b rows; a
-- negative pad crops.
function SpatialZeroPadding:__init(pad_l, pad_r, pad_t, pad_b)
   parent.__init(self)
   self.pad_l = pad_l
   self.pad_r = pad_r or self.pad_l
   self.pad_t = pad_t or self.pad_l
   self.pad_b = pad_b or self.pad_l
end

SpatialZeroPadding._mode = 'zero'

function SpatialZeroPadding:updateOutput(input)
   local dim = ops.checkDim(self, input, 3, 4, '3D or 4D (batch mode)')
   local h = input:size(dim - 1) + self.pad_t + self.pad_b
   local w = input:size(dim) + self.pad_l + self.pad_r
   if h < 1 or w < 1 then
      ops.fail(self, 'input is too small (%s) for the negative padding', ops.sizestr(input))
   end
   if self._mode ~= 'zero' then
      local iH, iW = input:size(dim - 1), input:size(dim)
      local lim = self._mode == 'reflect' and 1 or 0
      if self._mode == 'reflect' and (self.pad_l >= iW or self.pad_r >= iW
                                      or self.pad_t >= iH or self.pad_b >= iH) then
         ops.fail(self, 'padding size should be less than the corresponding input dimension, '
                  .. 'but got: padding (%d, %d, %d, %d) at input size %dx%d', self.pad_l,
                  self.pad_r, self.pad_t, self.pad_b, iH, iW)
      end
      if iH - math.max(0, -self.pad_t) - math.max(0, -self.pad_b) < lim
         or iW - math.max(0, -self.pad_l) - math.max(0, -self.pad_r) < lim then
         ops.fail(self, 'input is too small (%s) for the negative padding', ops.sizestr(input))
      end
   end
   local out = kernels.output(self, input, ops.withTail(input, dim - 2, {h, w}))
   kernels.pad2d(out, input, self.pad_l, self.pad_r, self.pad_t, self.pad_b, self._mode)
   return out
end

function SpatialZeroPadding:updateGradInput(input, gradOutput)
   ops.checkGradOutput(self, input, gradOutput)
   local gin = kernels.output(self, input, nil, 'gradInput')
   kernels.pad2d_grad(gin, gradOutput, self.pad_l, self.pad_r, self.pad_t, self.pad_b,
                      self._mode)
   return gin
end

function SpatialZeroPadding:accGradParameters(input, gradOutput, scale)
end

function SpatialZeroPadding:__tostring__()
   return string.format('%s(l=%d, r=%d, t=%d, b=%d)', torch.type(self), self.pad_l, self.pad_r,
                        self.pad_t, self.pad_b)
end
