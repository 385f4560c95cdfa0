-- nn.HardShrink: y = x if |x| > lambda, else 0.
local pointwise = require('nn.pointwise')
local schema = require('nn.schema')
local HardShrink, parent = torch.class('nn.HardShrink', 'nn.Module')

schema.declare(HardShrink, {
   {'lambda', 'number'},
})

function HardShrink:__init(lam)
   parent.__init(self)
   self.lambda = lam or 0.5
end

function HardShrink:updateOutput(input)
   local y, x, n, back = pointwise.begin(self, input, 'nn.HardShrink')
   local l = self.lambda
   for i = 0, n - 1 do
      local v = x[i]
      if v > l or v < -l then y[i] = v else y[i] = 0 end
   end
   return pointwise.finish(self, input, back)
end

-- dE/dx = dE/dy where |x| > lambda, else 0
HardShrink.updateGradInput = pointwise.shrinkGrad

return HardShrink
