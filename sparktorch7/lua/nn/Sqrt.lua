-- nn.Sqrt: y = sqrt(x + eps) (eps defaults to 0; as the old nn and cunn kernels
-- compute it, the last THNN CPU kernel ignored eps).
local pointwise = require('nn.pointwise')
local schema = require('nn.schema')
local Sqrt, parent = torch.class('nn.Sqrt', 'nn.Module')

schema.declare(Sqrt, {
   {'eps', 'number?'},
})

function Sqrt:__init(b)
   parent.__init(self)
   self.eps = b or 0
end

function Sqrt:updateOutput(input)
   local y, x, n, back = pointwise.begin(self, input, 'nn.Sqrt')
   local sqrt = math.sqrt
   local eps = self.eps or 0
   for i = 0, n - 1 do
      y[i] = sqrt(x[i] + eps)
   end
   return pointwise.finish(self, input, back)
end

-- dE/dx = dE/dy / (2 y), and 0 where y = 0 (as THNN)
function Sqrt:updateGradInput(input, gradOutput)
   local gi, go, n, back = pointwise.beginGrad(self, input, gradOutput, 'nn.Sqrt')
   local y = pointwise.outputData(self, n, 'nn.Sqrt')
   for i = 0, n - 1 do
      local v = y[i]
      if v == 0 then gi[i] = 0 else gi[i] = 0.5 * go[i] / v end
   end
   return pointwise.finishGrad(self, gradOutput, back)
end

return Sqrt
