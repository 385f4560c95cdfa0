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

return LogSigmoid
