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

-- dE/dx = dE/dy, passed through as it is (tensors and tables alike), as Torch7 does
function Identity:updateGradInput(input, gradOutput)
   self.gradInput = gradOutput
   return self.gradInput
end

return Identity
