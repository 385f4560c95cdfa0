-- nn.Power: y = x ^ pow.
local pointwise = require('nn.pointwise')
local schema = require('nn.schema')
local Power, parent = torch.class('nn.Power', 'nn.Module')

schema.declare(Power, {
   {'pow', 'number'},
})

function Power:__init(p)
   parent.__init(self)
   if not p then
      error('<nn.Power> usage: nn.Power(power)', 2)
   end
   self.pow = p
end

function Power:updateOutput(input)
   local y, x, n, back = pointwise.begin(self, input, 'nn.Power')
   local p = self.pow
   for i = 0, n - 1 do
      y[i] = x[i] ^ p
   end
   return pointwise.finish(self, input, back)
end

-- dE/dx = dE/dy pow x^(pow - 1)
function Power:updateGradInput(input, gradOutput)
   local gi, go, n, back = pointwise.beginGrad(self, input, gradOutput, 'nn.Power')
   local x = pointwise.contiguous(input):data()
   local p = self.pow
   for i = 0, n - 1 do
      gi[i] = go[i] * p * x[i] ^ (p - 1)
   end
   return pointwise.finishGrad(self, gradOutput, back)
end

return Power
