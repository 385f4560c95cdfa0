-- cudnn.Tanh: the same function as nn.Tanh.
local schema = require('nn.schema')
local Tanh, parent = torch.class('cudnn.Tanh', 'nn.Module')

schema.declare(Tanh, {
   {'inplace', 'boolean?'},
})

function Tanh:__init(inplace)
   parent.__init(self)
   self.inplace = inplace or false
end

Tanh.updateOutput = nn.Tanh.updateOutput

Tanh.updateGradInput = nn.Tanh.updateGradInput

return Tanh
