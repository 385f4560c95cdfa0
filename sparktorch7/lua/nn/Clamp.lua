-- nn.Clamp: y = x clamped to [min_value, max_value].
local schema = require('nn.schema')
local Clamp, parent = torch.class('nn.Clamp', 'nn.HardTanh')

schema.inherited(Clamp, "nn.HardTanh's fields")

function Clamp:__init(min_value, max_value)
   parent.__init(self, min_value, max_value)
end

return Clamp
