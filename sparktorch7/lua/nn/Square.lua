-- nn.Square: y = x * x.
local pointwise = require('nn.pointwise')
local Square, parent = torch.class('nn.Square', 'nn.Module')

function Square:updateOutput(input)
   local y, x, n, back = pointwise.begin(self, input, 'nn.Square')
   for i = 0, n - 1 do
      local v = x[i]
      y[i] = v * v
   end
   return pointwise.finish(self, input, back)
end

return Square
