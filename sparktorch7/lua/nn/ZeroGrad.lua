-- nn.ZeroGrad: the identity on the forward pass (it zeroes gradients in training).
local schema = require('nn.schema')
local ZeroGrad, parent = torch.class('nn.ZeroGrad', 'nn.Module')

schema.parameterless(ZeroGrad, 'passes its input through: no fields of its own')

function ZeroGrad:updateOutput(input)
   self.output = input
   return self.output
end

return ZeroGrad
