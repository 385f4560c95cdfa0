-- inn.SpatialAveragePooling: nn.SpatialAveragePooling in ceil mode (older inn files).
local schema = require('nn.schema')
local SpatialAveragePooling, parent = torch.class('inn.SpatialAveragePooling', 'nn.SpatialAveragePooling')

schema.inherited(SpatialAveragePooling, "nn.SpatialAveragePooling's fields (ceil_mode on)")

function SpatialAveragePooling:__init(...)
   parent.__init(self, ...)
   self:ceil()
end

function SpatialAveragePooling:updateOutput(input)
   self.ceil_mode = true
   return parent.updateOutput(self, input)
end

return SpatialAveragePooling
