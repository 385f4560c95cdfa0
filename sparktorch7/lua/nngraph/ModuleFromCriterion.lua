-- nngraph.ModuleFromCriterion: a criterion as a module of a graph; input
-- {prediction, target} gives a one-element tensor holding the loss.
local schema = require('nn.schema')
local ModuleFromCriterion, parent = torch.class('nngraph.ModuleFromCriterion', 'nn.Module')

schema.declare(ModuleFromCriterion, {
   {'criterion', 'criterion'},
})

function ModuleFromCriterion:__init(criterion)
   parent.__init(self)
   self.criterion = criterion
   self.output = torch.Tensor(1)
   self.gradInput = {torch.Tensor(), torch.Tensor()}
end

function ModuleFromCriterion:updateOutput(input)
   if type(input) ~= 'table' or #input ~= 2 then
      error('<nngraph.ModuleFromCriterion> input must be {prediction, target}', 2)
   end
   local loss = self.criterion:updateOutput(input[1], input[2])
   if not torch.isTensor(self.output) then
      self.output = torch.Tensor(1)
   end
   self.output:resize(1)
   self.output[1] = loss
   return self.output
end

return ModuleFromCriterion
