-- nn.Exp: y = exp(x).
local pointwise = require('nn.pointwise')
local schema = require('nn.schema')
local Exp, parent = torch.class('nn.Exp', 'nn.Module')

schema.parameterless(Exp, 'a pointwise function of the input: no fields of its own')

function Exp:updateOutput(input)
   local y, x, n, back = pointwise.begin(self, input, 'nn.Exp')
   local exp = math.exp
   for i = 0, n - 1 do
      y[i] = exp(x[i])
   end
   return pointwise.finish(self, input, back)
end

return Exp
