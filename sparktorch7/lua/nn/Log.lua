-- nn.Log: y = log(x).
local pointwise = require('nn.pointwise')
local schema = require('nn.schema')
local Log, parent = torch.class('nn.Log', 'nn.Module')

schema.parameterless(Log, 'a pointwise function of the input: no fields of its own')

function Log:updateOutput(input)
   local y, x, n, back = pointwise.begin(self, input, 'nn.Log')
   local log = math.log
   for i = 0, n - 1 do
      y[i] = log(x[i])
   end
   return pointwise.finish(self, input, back)
end

-- dE/dx = dE/dy / x
function Log:updateGradInput(input, gradOutput)
   local gi, go, n, back = pointwise.beginGrad(self, input, gradOutput, 'nn.Log')
   local x = pointwise.contiguous(input):data()
   for i = 0, n - 1 do
      gi[i] = go[i] / x[i]
   end
   return pointwise.finishGrad(self, gradOutput, back)
end

return Log
