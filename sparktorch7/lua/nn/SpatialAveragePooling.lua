local schema = require('nn.schema')
local SpatialAveragePooling, parent = torch.class('nn.SpatialAveragePooling', 'nn.Module')

schema.declare(SpatialAveragePooling, {
   {'kW', 'posint'}, {'kH', 'posint'},
   {'dW', 'posint'}, {'dH', 'posint'},
   {'padW', 'natural?'}, {'padH', 'natural?'},
   {'ceil_mode', 'boolean?'}, {'count_include_pad', 'boolean?'}, {'divide', 'boolean?'},
})
local ops = require 'nn.spatial_ops'
local kernels = require 'nn.kernels'

SpatialAveragePooling._clampLast = true
-- THNN refuses padding wider than half the kernel (cudnn does not)
SpatialAveragePooling._checkPad = true

function SpatialAveragePooling:__init(kW, kH, dW, dH, padW, padH)
   parent.__init(self)
   self.kW = kW
   self.kH = kH
   self.dW = dW or 1
   self.dH = dH or 1
   self.padW = padW or 0
   self.padH = padH or 0
   self.ceil_mode = false
   self.count_include_pad = true
   self.divide = true
end

function SpatialAveragePooling:ceil()
   self.ceil_mode = true
   return self
end

function SpatialAveragePooling:floor()
   self.ceil_mode = false
   return self
end

function SpatialAveragePooling:setCountIncludePad()
   self.count_include_pad = true
   return self
end

function SpatialAveragePooling:setCountExcludePad()
   self.count_include_pad = false
   return self
end

-- Files from before padding/ceil mode existed; `divide` missing means an old
-- sum-pooling module (Torch7 multiplies the average back by kW*kH).
function SpatialAveragePooling:backCompatibility()
   if self.ceil_mode == nil then
      self.ceil_mode = false
      self.count_include_pad = true
      self.padH = 0
      self.padW = 0
   end
   if self.count_include_pad == nil then self.count_include_pad = true end
   self.padW = self.padW or 0
   self.padH = self.padH or 0
end

function SpatialAveragePooling:updateOutput(input)
   self:backCompatibility()
   local dim = ops.checkDim(self, input, 3, 4, '3D or 4D (batch mode)')
   if self._checkPad and (self.kW / 2 < self.padW or self.kH / 2 < self.padH) then
      ops.fail(self, 'pad should be smaller than half of kernel size, but got padW = %d, '
               .. 'padH = %d, kW = %d, kH = %d', self.padW, self.padH, self.kW, self.kH)
   end
   local iH, iW = input:size(dim - 1), input:size(dim)
   local clamp = self._clampLast and (self.padW ~= 0 or self.padH ~= 0)
   local oH = ops.poolSize(iH, self.kH, self.dH, self.padH, 1, self.ceil_mode, clamp)
   local oW = ops.poolSize(iW, self.kW, self.dW, self.padW, 1, self.ceil_mode, clamp)
   if oH < 1 or oW < 1 then
      ops.fail(self, 'given input size (%s), calculated output size (%dx%d) is too small',
               ops.sizestr(input), oH, oW)
   end
   local out = kernels.output(self, input, ops.withTail(input, dim - 2, {oH, oW}))
   -- old modules without `divide`: the average times kW*kH, as Torch7 computes it
   local scale = (not self.divide) and self.kW * self.kH or nil
   kernels.avg_pool2d(out, input, self.kW, self.kH, self.dW, self.dH, self.padW, self.padH,
                      self.count_include_pad, scale)
   return out
end

function SpatialAveragePooling:updateGradInput(input, gradOutput)
   ops.checkGradOutput(self, input, gradOutput)
   local gin = kernels.output(self, input, nil, 'gradInput')
   local scale = (not self.divide) and self.kW * self.kH or nil
   kernels.avg_pool2d_grad(gin, gradOutput, self.kW, self.kH, self.dW, self.dH, self.padW,
                           self.padH, self.count_include_pad, scale)
   return gin
end

function SpatialAveragePooling:accGradParameters(input, gradOutput, scale)
end

function SpatialAveragePooling:__tostring__()
   local s = string.format('%s(%dx%d, %d,%d', torch.type(self), self.kW, self.kH, self.dW, self.dH)
   if (self.padW or 0) ~= 0 or (self.padH or 0) ~= 0 then
      s = s .. string.format(', %d,%d', self.padW, self.padH)
   end
   return s .. ')'
end
