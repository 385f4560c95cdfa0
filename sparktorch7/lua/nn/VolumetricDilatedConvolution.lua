local schema = require('nn.schema')
local VolumetricDilatedConvolution, parent =
   torch.class('nn.VolumetricDilatedConvolution', 'nn.VolumetricConvolution')

schema.declare(VolumetricDilatedConvolution, {
   {'dilationT', 'posint?'}, {'dilationW', 'posint?'}, {'dilationH', 'posint?'},
})

function VolumetricDilatedConvolution:__init(nInputPlane, nOutputPlane, kT, kW, kH, dT, dW, dH,
                                             padT, padW, padH, dilationT, dilationW, dilationH)
   parent.__init(self, nInputPlane, nOutputPlane, kT, kW, kH, dT, dW, dH, padT, padW, padH)
   self.dilationT = dilationT or 1
   self.dilationW = dilationW or 1
   self.dilationH = dilationH or 1
end

function VolumetricDilatedConvolution:_dilation()
   return self.dilationT or 1, self.dilationW or 1, self.dilationH or 1
end

function VolumetricDilatedConvolution:__tostring__()
   return parent.__tostring__(self) .. string.format(' dilation %d,%d,%d', self.dilationT,
                                                     self.dilationW, self.dilationH)
end
