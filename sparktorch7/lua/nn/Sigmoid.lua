-- nn.Sigmoid: y = 1 / (1 + exp(-x)).
local pointwise = require('nn.pointwise')
local schema = require('nn.schema')
local Sigmoid, parent = torch.class('nn.Sigmoid', 'nn.Module')

schema.parameterless(Sigmoid, 'a pointwise function of the input: no fields of its own')

function Sigmoid:updateOutput(input)
   local y, x, n, back = pointwise.begin(self, input, 'nn.Sigmoid')
   local exp = math.exp
   for i = 0, n - 1 do
      y[i] = 1 / (1 + exp(-x[i]))
   end
   return pointwise.finish(self, input, back)
end

-- dE/dx = dE/dy y (1 - y)
function Sigmoid:updateGradInput(input, gradOutput)
   local y = self.output
   self.gradInput:resizeAs(y):copy(y):mul(-1):add(1):cmul(y):cmul(gradOutput)
   return self.gradInput
end

return Sigmoid
