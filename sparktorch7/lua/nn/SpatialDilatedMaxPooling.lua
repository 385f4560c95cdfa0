local schema = require('nn.schema')
local SpatialDilatedMaxPooling, parent =
   torch.class('nn.SpatialDilatedMaxPooling', 'nn.SpatialMaxPooling')

schema.declare(SpatialDilatedMaxPooling, {
   {'dilationW', 'posint?'}, {'dilationH', 'posint?'},
})

function SpatialDilatedMaxPooling:__init(kW, kH, dW, dH, padW, padH, dilationW, dilationH)
   parent.__init(self, kW, kH, dW, dH, padW, padH)
   self.dilationW = dilationW or 1
   self.dilationH = dilationH or 1
end

function SpatialDilatedMaxPooling:_dilation()
   return self.dilationW or 1, self.dilationH or 1
end

function SpatialDilatedMaxPooling:__tostring__()
   return parent.__tostring__(self) .. string.format(' dilation %d,%d', self.dilationW, self.dilationH)
end
