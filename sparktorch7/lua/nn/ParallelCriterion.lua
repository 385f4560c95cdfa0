-- nn.ParallelCriterion: the weighted sum of criterion i on input[i] and
-- target[i] (the same target for all when repeatTarget).
local schema = require('nn.schema')
local ParallelCriterion, parent = torch.class('nn.ParallelCriterion', 'nn.Criterion')

schema.declare(ParallelCriterion, {
   {'criterions', 'table'}, {'weights', 'table|tensor|storage?'}, {'repeatTarget', 'boolean?'},
})

function ParallelCriterion:__init(repeatTarget)
   parent.__init(self)
   self.criterions = {}
   self.weights = {}
   self.gradInput = {}
   self.repeatTarget = repeatTarget
end

function ParallelCriterion:add(criterion, weight)
   table.insert(self.criterions, criterion)
   table.insert(self.weights, weight or 1)
   return self
end

function ParallelCriterion:updateOutput(input, target)
   local s = 0
   for i, criterion in ipairs(self.criterions) do
      local t = self.repeatTarget and target or target[i]
      s = s + self.weights[i] * criterion:updateOutput(input[i], t)
   end
   self.output = s
   return s
end

-- gradInput[i] is weight i times criterion i's gradient for input[i]
function ParallelCriterion:updateGradInput(input, target)
   if type(input) ~= 'table' or torch.typename(input) then
      error('<nn.ParallelCriterion> input must be a table, one element per criterion', 2)
   end
   self.gradInput = nn.utils.recursiveResizeAs(self.gradInput, input)
   nn.utils.recursiveFill(self.gradInput, 0)
   for i, criterion in ipairs(self.criterions) do
      local t = self.repeatTarget and target or target[i]
      nn.utils.recursiveAdd(self.gradInput[i], self.weights[i], criterion:updateGradInput(input[i], t))
   end
   return self.gradInput
end

return ParallelCriterion
