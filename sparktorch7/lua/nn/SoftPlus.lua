-- nn.SoftPlus: y = log(1 + exp(beta * x)) / beta, and y = x where beta * x > threshold.
local pointwise = require('nn.pointwise')
local schema = require('nn.schema')
local SoftPlus, parent = torch.class('nn.SoftPlus', 'nn.Module')

schema.declare(SoftPlus, {
   {'beta', 'number?'}, {'threshold', 'number?'},
})

function SoftPlus:__init(beta, threshold)
   parent.__init(self)
   self.beta = beta or 1
   self.threshold = threshold or 20
end

function SoftPlus:updateOutput(input)
   local y, x, n, back = pointwise.begin(self, input, 'nn.SoftPlus')
   local exp, log = math.exp, math.log
   local beta, th = self.beta or 1, self.threshold or 20
   for i = 0, n - 1 do
      local v = x[i]
      local bv = v * beta
      if bv > th then y[i] = v else y[i] = log(1 + exp(bv)) / beta end
   end
   return pointwise.finish(self, input, back)
end

-- dE/dx = dE/dy (1 - exp(-beta y)), from the output as THNN computes it, and dE/dy where
-- beta y > threshold
function SoftPlus:updateGradInput(input, gradOutput)
   local gi, go, n, back = pointwise.beginGrad(self, input, gradOutput, 'nn.SoftPlus')
   local y = pointwise.outputData(self, n, 'nn.SoftPlus')
   local exp = math.exp
   local beta, th = self.beta or 1, self.threshold or 20
   for i = 0, n - 1 do
      local by = y[i] * beta
      if by > th then
         gi[i] = go[i]
      else
         local z = exp(by)
         gi[i] = go[i] * (z - 1) / z
      end
   end
   return pointwise.finishGrad(self, gradOutput, back)
end

return SoftPlus
