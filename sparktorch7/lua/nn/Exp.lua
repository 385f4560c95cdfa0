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

-- dE/dx = dE/dy y
function Exp:updateGradInput(input, gradOutput)
   local gi, go, n, back = pointwise.beginGrad(self, input, gradOutput, 'nn.Exp')
   local y = pointwise.outputData(self, n, 'nn.Exp')
   for i = 0, n - 1 do
      gi[i] = go[i] * y[i]
   end
   return pointwise.finishGrad(self, gradOutput, back)
end

return Exp
