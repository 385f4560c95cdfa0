-- nn.Tanh: y = tanh(x).
local pointwise = require('nn.pointwise')
local schema = require('nn.schema')
local Tanh, parent = torch.class('nn.Tanh', 'nn.Module')

schema.parameterless(Tanh, 'a pointwise function of the input: no fields of its own')

function Tanh:updateOutput(input)
   local y, x, n, back = pointwise.begin(self, input, 'nn.Tanh')
   local tanh = math.tanh
   for i = 0, n - 1 do
      y[i] = tanh(x[i])
   end
   return pointwise.finish(self, input, back)
end

-- dE/dx = dE/dy (1 - y^2)
function Tanh:updateGradInput(input, gradOutput)
   self.gradInput = self.gradInput or input.new()
   local y = self.output
   self.gradInput:resizeAs(y):copy(y):cmul(y):mul(-1):add(1):cmul(gradOutput)
   return self.gradInput
end

return Tanh
