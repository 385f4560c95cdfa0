-- nn.SuperCriterion(): nnx's weighted sum of criterions, added with :add(criterion [, weight
-- = 1]); criterion i sees input[i] and target[i] (or the one target when it is no table).
local schema = require('nn.schema')
local SuperCriterion, parent = torch.class('nn.SuperCriterion', 'nn.Criterion')

schema.declare(SuperCriterion, {
   {'criterions', 'table'}, {'weights', 'table'},
})

function SuperCriterion:__init()
   parent.__init(self)
   self.criterions = {}
   self.weights = {}
   self.gradInput = {}
end

function SuperCriterion:add(criterion, weight)
   if not torch.isTypeOf(criterion, 'nn.Criterion') then
      error('<nn.SuperCriterion> add expects a criterion, got ' .. torch.type(criterion), 2)
   end
   table.insert(self.criterions, criterion)
   table.insert(self.weights, weight or 1)
   return self
end

local function targetOf(target, i)
   if type(target) == 'table' and not torch.typename(target) then return target[i] end
   return target
end

function SuperCriterion:updateOutput(input, target)
   if type(input) ~= 'table' or torch.typename(input) then
      error('<nn.SuperCriterion> input must be a table (one entry per criterion), got ' .. torch.type(input), 2)
   end
   self.output = 0
   for i, criterion in ipairs(self.criterions) do
      self.output = self.output + self.weights[i] * criterion:updateOutput(input[i], targetOf(target, i))
   end
   return self.output
end

function SuperCriterion:updateGradInput(input, target)
   self.gradInput = {}
   for i, criterion in ipairs(self.criterions) do
      local g = criterion:updateGradInput(input[i], targetOf(target, i))
      self.gradInput[i] = nn.utils.newLike(input[i]):resizeAs(input[i]):zero():add(self.weights[i], g)
   end
   return self.gradInput
end

return SuperCriterion
