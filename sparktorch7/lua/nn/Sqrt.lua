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

return Sqrt
