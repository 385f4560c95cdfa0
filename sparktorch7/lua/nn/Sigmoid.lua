-- nn.Sigmoid: y = 1 / (1 + exp(-x)).
local pointwise = require('nn.pointwise')
local Sigmoid, parent = torch.class('nn.Sigmoid', 'nn.Module')

function Sigmoid:updateOutput(input)
   local y, x, n, back = pointwise.begin(self, input, 'nn.Sigmoid')
   local exp = math.exp
   for i = 0, n - 1 do
      y[i] = 1 / (1 + exp(-x[i]))
   end
   return pointwise.finish(self, input, back)
end

return Sigmoid
