-- nn.ZeroGrad: the identity on the forward pass (it zeroes gradients in training).
local schema = require('nn.schema')
local ZeroGrad, parent = torch.class('nn.ZeroGrad', 'nn.Module')

schema.parameterless(ZeroGrad, 'passes its input through: no fields of its own')

function ZeroGrad:updateOutput(input)
   self.output = input
   return self.output
end

-- zeros shaped like the input (each tensor of a table input)
local function zerosLike(old, input)
   if torch.isTensor(input) then
      local z = torch.isTensor(old) and torch.type(old) == torch.type(input) and old or nn.utils.newLike(input)
      return z:resizeAs(input):zero()
   elseif type(input) == 'table' then
      local t = type(old) == 'table' and not torch.isTensor(old) and old or {}
      for k, v in pairs(input) do
         t[k] = zerosLike(t[k], v)
      end
      for k in pairs(t) do
         if input[k] == nil then t[k] = nil end
      end
      return t
   end
   error(string.format('<nn.ZeroGrad> input must be a tensor or a table of them, not a %s', torch.type(input)), 3)
end

-- no gradient goes back: zeros like the input
function ZeroGrad:updateGradInput(input, gradOutput)
   self.gradInput = zerosLike(self.gradInput, input)
   return self.gradInput
end

return ZeroGrad
