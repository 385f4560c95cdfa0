local schema = require('nn.schema')
local SpatialDilatedConvolution, parent =
   torch.class('nn.SpatialDilatedConvolution', 'nn.SpatialConvolution')

schema.declare(SpatialDilatedConvolution, {
   {'dilationW', 'posint?'}, {'dilationH', 'posint?'},
})

function SpatialDilatedConvolution:__init(nInputPlane, nOutputPlane, kW, kH, dW, dH, padW, padH,
                                          dilationW, dilationH)
   parent.__init(self, nInputPlane, nOutputPlane, kW, kH, dW, dH, padW, padH)
   self.dilationW = dilationW or 1
   self.dilationH = dilationH or 1
end

function SpatialDilatedConvolution:_dilation()
   return self.dilationW or 1, self.dilationH or 1
end

function SpatialDilatedConvolution:__tostring__()
   return parent.__tostring__(self) .. string.format(' dilation %d,%d', self.dilationW, self.dilationH)
end
