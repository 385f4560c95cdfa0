-- cudnn.Sigmoid: the same function as nn.Sigmoid.
local schema = require('nn.schema')
local Sigmoid, parent = torch.class('cudnn.Sigmoid', 'nn.Module')

schema.declare(Sigmoid, {
   {'inplace', 'boolean?'},
})

function Sigmoid:__init(inplace)
   parent.__init(self)
   self.inplace = inplace or false
end

Sigmoid.updateOutput = nn.Sigmoid.updateOutput

Sigmoid.updateGradInput = nn.Sigmoid.updateGradInput

return Sigmoid
