-- nn.Square: y = x * x.
local pointwise = require('nn.pointwise')
local schema = require('nn.schema')
local Square, parent = torch.class('nn.Square', 'nn.Module')

schema.parameterless(Square, 'a pointwise function of the input: no fields of its own')

function Square:updateOutput(input)
   local y, x, n, back = pointwise.begin(self, input, 'nn.Square')
   for i = 0, n - 1 do
      local v = x[i]
      y[i] = v * v
   end
   return pointwise.finish(self, input, back)
end

-- dE/dx = 2 x dE/dy
function Square:updateGradInput(input, gradOutput)
   local gi, go, n, back = pointwise.beginGrad(self, input, gradOutput, 'nn.Square')
   local x = pointwise.contiguous(input):data()
   for i = 0, n - 1 do
      gi[i] = 2 * go[i] * x[i]
   end
   return pointwise.finishGrad(self, gradOutput, back)
end

return Square
