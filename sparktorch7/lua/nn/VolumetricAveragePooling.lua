local schema = require('nn.schema')
local VolumetricAveragePooling, parent = torch.class('nn.VolumetricAveragePooling', 'nn.Module')

schema.declare(VolumetricAveragePooling, {
   {'kT', 'posint'}, {'kW', 'posint'}, {'kH', 'posint'},
   {'dT', 'posint'}, {'dW', 'posint'}, {'dH', 'posint'},
   {'padT', 'natural?'}, {'padW', 'natural?'}, {'padH', 'natural?'},
   {'ceil_mode', 'boolean?'}, {'count_include_pad', 'boolean?'},
})
local ops = require 'nn.spatial_ops'
local kernels = require 'nn.kernels'

VolumetricAveragePooling._clampLast = true
-- THNN refuses padding wider than half the kernel (cudnn does not)
VolumetricAveragePooling._checkPad = true

function VolumetricAveragePooling:__init(kT, kW, kH, dT, dW, dH, padT, padW, padH)
   parent.__init(self)
   self.kT = kT
   self.kW = kW
   self.kH = kH
   self.dT = dT or kT
   self.dW = dW or kW
   self.dH = dH or kH
   self.padT = padT or 0
   self.padW = padW or 0
   self.padH = padH or 0
   self.ceil_mode = false
   self.count_include_pad = true
end

function VolumetricAveragePooling:ceil()
   self.ceil_mode = true
   return self
end

function VolumetricAveragePooling:floor()
   self.ceil_mode = false
   return self
end

function VolumetricAveragePooling:setCountIncludePad()
   self.count_include_pad = true
   return self
end

function VolumetricAveragePooling:setCountExcludePad()
   self.count_include_pad = false
   return self
end

-- Files from before padding existed.
function VolumetricAveragePooling:backCompatibility()
   self.ceil_mode = self.ceil_mode or false
   if self.count_include_pad == nil then self.count_include_pad = true end
   self.padT = self.padT or 0
   self.padW = self.padW or 0
   self.padH = self.padH or 0
end

function VolumetricAveragePooling:updateOutput(input)
   self:backCompatibility()
   local dim = ops.checkDim(self, input, 4, 5, '4D or 5D (batch mode)')
   local oT, oH, oW = nn.VolumetricMaxPooling._outSize(self, input, dim)
   local out = kernels.output(self, input, ops.withTail(input, dim - 3, {oT, oH, oW}))
   kernels.avg_pool3d(out, input, self.kT, self.kW, self.kH, self.dT, self.dW, self.dH,
                      self.padT, self.padW, self.padH, self.count_include_pad)
   return out
end

function VolumetricAveragePooling:updateGradInput(input, gradOutput)
   ops.checkGradOutput(self, input, gradOutput)
   local gin = kernels.output(self, input, nil, 'gradInput')
   kernels.avg_pool3d_grad(gin, gradOutput, self.kT, self.kW, self.kH, self.dT, self.dW,
                           self.dH, self.padT, self.padW, self.padH, self.count_include_pad)
   return gin
end

function VolumetricAveragePooling:accGradParameters(input, gradOutput, scale)
end

function VolumetricAveragePooling:__tostring__()
   return string.format('%s(%dx%dx%d, %d,%d,%d)', torch.type(self), self.kT, self.kW, self.kH,
                        self.dT, self.dW, self.dH)
end
