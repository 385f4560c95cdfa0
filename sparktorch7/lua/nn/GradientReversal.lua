-- nn.GradientReversal: the identity on the forward pass (it only scales
-- gradients by -lambda, which inference never computes).
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

return GradientReversal
