-- nn.LogSigmoid: y = -log(1 + exp(-x)), computed without overflow.
local pointwise = require('nn.pointwise')
local schema = require('nn.schema')
local LogSigmoid, parent = torch.class('nn.LogSigmoid', 'nn.Module')

schema.parameterless(LogSigmoid, 'a pointwise function of the input: no fields of its own')

function LogSigmoid:updateOutput(input)
   local y, x, n, back = pointwise.begin(self, input, 'nn.LogSigmoid')
   local exp, log = math.exp, math.log
   for i = 0, n - 1 do
      local v = x[i]
      if v >= 0 then y[i] = -log(1 + exp(-v)) else y[i] = v - log(1 + exp(v)) end
   end
   return pointwise.finish(self, input, back)
end

-- dE/dx = dE/dy (1 - sigmoid(x)) = dE/dy / (1 + exp(x)), computed without overflow
function LogSigmoid:updateGradInput(input, gradOutput)
   local gi, go, n, back = pointwise.beginGrad(self, input, gradOutput, 'nn.LogSigmoid')
   local x = pointwise.contiguous(input):data()
   local exp = math.exp
   for i = 0, n - 1 do
      local v = x[i]
      if v >= 0 then
         local e = exp(-v)
         gi[i] = go[i] * e / (1 + e)
      else
         gi[i] = go[i] / (1 + exp(v))
      end
   end
   return pointwise.finishGrad(self, gradOutput, back)
end

return LogSigmoid
