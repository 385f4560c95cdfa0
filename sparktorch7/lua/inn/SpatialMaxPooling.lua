-- inn.SpatialMaxPooling: nn.SpatialMaxPooling in ceil mode (older inn files).
local schema = require('nn.schema')
local SpatialMaxPooling, parent = torch.class('inn.SpatialMaxPooling', 'nn.SpatialMaxPooling')

schema.inherited(SpatialMaxPooling, "nn.SpatialMaxPooling's fields (ceil_mode on)")

function SpatialMaxPooling:__init(...)
   parent.__init(self, ...)
   self:ceil()
end

function SpatialMaxPooling:updateOutput(input)
   self.ceil_mode = true
   return parent.updateOutput(self, input)
end

return SpatialMaxPooling
