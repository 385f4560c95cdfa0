-- nn.GradientReversal: the identity on the forward pass (it only scales
-- gradients by -lambda, which inference never computes).
local pointwise = require('nn.pointwise')
local schema = require('nn.schema')
local GradientReversal, parent = torch.class('nn.GradientReversal', 'nn.Module')

schema.declare(GradientReversal, {
   {'lambda', 'number?'},
})

GradientReversal.__version = 2

function GradientReversal:__init(lambda)
   parent.__init(self)
   self.lambda = lambda or 1
end

function GradientReversal:setLambda(lambda)
   self.lambda = lambda
   return self
end

function GradientReversal:updateOutput(input)
   self.output = input
   return self.output
end

function GradientReversal:backCompatibility(version)
   parent.backCompatibility(self, version)
   self.lambda = self.lambda or 1
end

-- dE/dx = -lambda dE/dy
function GradientReversal:updateGradInput(input, gradOutput)
   local gi, go, n, back = pointwise.beginGrad(self, input, gradOutput, 'nn.GradientReversal')
   local l = -(self.lambda or 1)
   for i = 0, n - 1 do
      gi[i] = go[i] * l
   end
   return pointwise.finishGrad(self, gradOutput, back)
end

return GradientReversal
