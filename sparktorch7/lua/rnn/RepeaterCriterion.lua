-- nn.RepeaterCriterion(criterion): the sum over the steps of input of
-- criterion(input[t], target), one target for every step.
local schema = require('nn.schema')
local RepeaterCriterion, parent = torch.class('nn.RepeaterCriterion', 'nn.Criterion')

schema.declare(RepeaterCriterion, {
   {'criterion', 'criterion'},
   {'clones', 'table?'},
})

function RepeaterCriterion:__init(criterion)
   parent.__init(self)
   if not torch.isTypeOf(criterion, 'nn.Criterion') then
      error('<nn.RepeaterCriterion> expects an nn.Criterion at argument 1, got ' .. torch.type(criterion), 2)
   end
   self.criterion = criterion
   self.gradInput = {}
   self.clones = {}
end

RepeaterCriterion.getStepCriterion = nn.SequencerCriterion.getStepCriterion

function RepeaterCriterion:updateOutput(input, target)
   local n = nn.SequencerCriterion._nSteps(self, input, target, false)
   self.output = 0
   for i = 1, n do
      self.output = self.output + self:getStepCriterion(i):forward(input[i], target)
   end
   return self.output
end

function RepeaterCriterion:forward(input, target)
   return self:updateOutput(input, target)
end

-- each step's criterion backward against the one target
function RepeaterCriterion:updateGradInput(input, target)
   local n = nn.SequencerCriterion._nSteps(self, input, target, false)
   local steps = {}
   for i = 1, n do
      steps[i] = self:getStepCriterion(i):backward(input[i], target)
   end
   self.gradInput = nn.SequencerCriterion._gather(self, input, steps)
   return self.gradInput
end

function RepeaterCriterion:backward(input, target)
   return self:updateGradInput(input, target)
end

return RepeaterCriterion
