local schema = require('nn.schema')
local VolumetricCrossEntropyCriterion, parent =
   torch.class('cudnn.VolumetricCrossEntropyCriterion', 'nn.Criterion')

schema.declare(VolumetricCrossEntropyCriterion, {
   {'scec', 'criterion'},
})

-- cudnn.SpatialCrossEntropyCriterion for batch x classes x T x H x W inputs and
-- batch x T x H x W targets, T and H folded into one dimension.
function VolumetricCrossEntropyCriterion:__init(weights)
   parent.__init(self)
   self.scec = cudnn.SpatialCrossEntropyCriterion(weights)
end

local check = cudnn.SpatialCrossEntropyCriterion._check

local function fold(input, target)
   local x = input:contiguous()
   x = x:view(x:size(1), x:size(2), x:size(3) * x:size(4), x:size(5))
   local t = target:contiguous()
   t = t:view(t:size(1), t:size(2) * t:size(3), t:size(4))
   return x, t
end

function VolumetricCrossEntropyCriterion:updateOutput(input, target)
   check(self, input, target, 5)
   if self.sizeAverage ~= nil then self.scec.sizeAverage = self.sizeAverage end
   self.scec:updateOutput(fold(input, target))
   self.output = self.scec.output
   return self.output
end

function VolumetricCrossEntropyCriterion:updateGradInput(input, target)
   check(self, input, target, 5)
   if self.sizeAverage ~= nil then self.scec.sizeAverage = self.sizeAverage end
   self.scec:updateGradInput(fold(input, target))
   self.gradInput = self.scec.gradInput:view(input:size())
   return self.gradInput
end
