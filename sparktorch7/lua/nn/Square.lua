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

return Square
