local schema = require('nn.schema')
local VolumetricDilatedMaxPooling, parent =
   torch.class('nn.VolumetricDilatedMaxPooling', 'nn.VolumetricMaxPooling')

schema.declare(VolumetricDilatedMaxPooling, {
   {'dilationT', 'posint?'}, {'dilationW', 'posint?'}, {'dilationH', 'posint?'},
})

-- nn.VolumetricMaxPooling over kernels whose taps are dilation* cells apart: a window
-- spans dilation*(k-1)+1 cells along each axis.
function VolumetricDilatedMaxPooling:__init(kT, kW, kH, dT, dW, dH, padT, padW, padH,
                                            dilationT, dilationW, dilationH)
   parent.__init(self, kT, kW, kH, dT, dW, dH, padT, padW, padH)
   self.dilationT = dilationT or 1
   self.dilationW = dilationW or 1
   self.dilationH = dilationH or 1
end

function VolumetricDilatedMaxPooling:_dilation()
   return self.dilationT or 1, self.dilationW or 1, self.dilationH or 1
end

function VolumetricDilatedMaxPooling:__tostring__()
   local s = string.format('%s(%dx%dx%d, %d,%d,%d', torch.type(self), self.kT, self.kW, self.kH,
                           self.dT, self.dW, self.dH)
   if (self.padT or 0) ~= 0 or (self.padW or 0) ~= 0 or (self.padH or 0) ~= 0 then
      s = s .. string.format(', %d,%d,%d', self.padT, self.padW, self.padH)
   end
   local dT, dW, dH = self:_dilation()
   return s .. string.format(', %d,%d,%d)', dT, dW, dH)
end
