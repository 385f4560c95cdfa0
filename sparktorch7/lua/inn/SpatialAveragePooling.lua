-- inn.SpatialAveragePooling: nn.SpatialAveragePooling in ceil mode (older inn files).
local SpatialAveragePooling, parent = torch.class('inn.SpatialAveragePooling', 'nn.SpatialAveragePooling')

function SpatialAveragePooling:__init(...)
   parent.__init(self, ...)
   self:ceil()
end

function SpatialAveragePooling:updateOutput(input)
   self.ceil_mode = true
   return parent.updateOutput(self, input)
end

return SpatialAveragePooling
