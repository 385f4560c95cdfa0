-- nn.Identity: y = x (tensors and tables alike).
local schema = require('nn.schema')
local Identity, parent = torch.class('nn.Identity', 'nn.Module')

schema.parameterless(Identity, 'passes its input through: no fields of its own')

function Identity:updateOutput(input)
   self.output = input
   return self.output
end

function Identity:clearState()
   -- output is the input: forget it instead of emptying it
   self.output = torch.Tensor()
   self.gradInput = torch.Tensor()
   return self
end

return Identity
