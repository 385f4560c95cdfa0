-- nn.ReLU: y = max(0, x), a Threshold at 0.
local schema = require('nn.schema')
local ReLU, parent = torch.class('nn.ReLU', 'nn.Threshold')

schema.inherited(ReLU, "nn.Threshold's fields")

function ReLU:__init(p)
   parent.__init(self, 0, 0, p)
end

return ReLU
