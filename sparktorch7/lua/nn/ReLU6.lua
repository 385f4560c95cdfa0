-- nn.ReLU6: y = min(max(x, 0), 6).
local schema = require('nn.schema')
local ReLU6, parent = torch.class('nn.ReLU6', 'nn.HardTanh')

schema.inherited(ReLU6, "nn.HardTanh's fields")

function ReLU6:__init(inplace)
   parent.__init(self, 0, 6, inplace)
end

return ReLU6
