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
function SoftShrink:updateGradInput(input, gradOutput)
   local gi, go, n, back = pointwise.beginGrad(self, input, gradOutput, 'nn.SoftShrink')
   local x = pointwise.contiguous(input):data()
   local l = self.lambda
   for i = 0, n - 1 do
      local v = x[i]
      if v > l or v < -l then gi[i] = go[i] else gi[i] = 0 end
   end
   return pointwise.finishGrad(self, gradOutput, back)
end

return SoftShrink
