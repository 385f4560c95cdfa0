local schema = require('nn.schema')
local SpatialDilatedConvolution, parent =
   torch.class('cudnn.SpatialDilatedConvolution', 'cudnn.SpatialConvolution')

schema.declare(SpatialDilatedConvolution, {
   {'dilationW', 'posint?'}, {'dilationH', 'posint?'},
})

-- cudnn's grouped convolution with dilation (cudnn.torch keeps it a child of
-- cudnn.SpatialConvolution, not of nn.SpatialDilatedConvolution).
function SpatialDilatedConvolution:__init(nInputPlane, nOutputPlane, kW, kH, dW, dH, padW, padH,
                                          dilationW, dilationH, groups)
   parent.__init(self, nInputPlane, nOutputPlane, kW, kH, dW, dH, padW, padH, groups)
   self.dilationW = dilationW or 1
   self.dilationH = dilationH or 1
end

SpatialDilatedConvolution._dilation = nn.SpatialDilatedConvolution._dilation
