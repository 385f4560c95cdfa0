-- nn.MultiCriterion: the weighted sum of several criteria on the same input and target.
local schema = require('nn.schema')
local MultiCriterion, parent = torch.class('nn.MultiCriterion', 'nn.Criterion')

schema.declare(MultiCriterion, {
   {'criterions', 'table'}, {'weights', 'table|tensor|storage?'},
})

function MultiCriterion:__init()
   parent.__init(self)
   self.criterions = {}
   self.weights = torch.DoubleStorage()
end

function MultiCriterion:add(criterion, weight)
   table.insert(self.criterions, criterion)
   local w = {}
   for i = 1, #self.criterions - 1 do w[i] = self.weights[i] end
   w[#self.criterions] = weight or 1
   self.weights = torch.DoubleStorage(w)
   return self
end

function MultiCriterion:updateOutput(input, target)
   local s = 0
   for i, criterion in ipairs(self.criterions) do
      s = s + self.weights[i] * criterion:updateOutput(input, target)
   end
   self.output = s
   return s
end

-- the weighted sum of the criteria's gradients (input may be a nested table)
function MultiCriterion:updateGradInput(input, target)
   self.gradInput = nn.utils.recursiveResizeAs(self.gradInput, input)
   nn.utils.recursiveFill(self.gradInput, 0)
   for i, criterion in ipairs(self.criterions) do
      nn.utils.recursiveAdd(self.gradInput, self.weights[i], criterion:updateGradInput(input, target))
   end
   return self.gradInput
end

return MultiCriterion
