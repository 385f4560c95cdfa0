-- nn.Minus(): nnx's negation, y = -x.
local schema = require('nn.schema')
local Minus, parent = torch.class('nn.Minus', 'nn.Module')

schema.parameterless(Minus, 'a pointwise function: no fields of its own')

function Minus:updateOutput(input)
   if not torch.isTensor(input) then
      error('<nn.Minus> input must be a tensor, got ' .. torch.type(input), 2)
   end
   local out = require('nn.kernels').output(self, input)
   out:copy(input):mul(-1)
   return out
end

function Minus:updateGradInput(input, gradOutput)
   local gin = require('nn.kernels').output(self, gradOutput, nil, 'gradInput')
   gin:copy(gradOutput):mul(-1)
   return gin
end

return Minus
