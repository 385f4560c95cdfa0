-- nn.SoftShrink: y = x - lambda if x > lambda, x + lambda if x < -lambda, else 0.
local pointwise = require('nn.pointwise')
local schema = require('nn.schema')
local SoftShrink, parent = torch.class('nn.SoftShrink', 'nn.Module')

schema.declare(SoftShrink, {
   {'lambda', 'number'},
})

function SoftShrink:__init(lam)
   parent.__init(self)
   self.lambda = lam or 0.5
end

function SoftShrink:updateOutput(input)
   local y, x, n, back = pointwise.begin(self, input, 'nn.SoftShrink')
   local l = self.lambda
   for i = 0, n - 1 do
      local v = x[i]
      if v > l then y[i] = v - l elseif v < -l then y[i] = v + l else y[i] = 0 end
   end
   return pointwise.finish(self, input, back)
end

-- dE/dx = dE/dy where |x| > lambda, else 0
SoftShrink.updateGradInput = pointwise.shrinkGrad

return SoftShrink
