-- cudnn.Sigmoid: the same function as nn.Sigmoid.
local Sigmoid, parent = torch.class('cudnn.Sigmoid', 'nn.Module')

function Sigmoid:__init(inplace)
   parent.__init(self)
   self.inplace = inplace or false
end

Sigmoid.updateOutput = nn.Sigmoid.updateOutput

return Sigmoid
