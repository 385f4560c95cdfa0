-- nn.CriterionTable(criterion): a criterion as a module of the table {input, target}: the
-- output is the loss, gradInput the table {dloss/dinput}.
local schema = require('nn.schema')
local CriterionTable, parent = torch.class('nn.CriterionTable', 'nn.Module')

schema.declare(CriterionTable, {
   {'criterion', 'criterion'},
   {'output', 'any'},
})

function CriterionTable:__init(criterion)
   parent.__init(self)
   if not torch.isTypeOf(criterion, 'nn.Criterion') then
      error('<nn.CriterionTable> expects an nn criterion at argument 1, got ' .. torch.type(criterion), 2)
   end
   self.criterion = criterion
   self.gradInput = {criterion.gradInput}
end

local unpack = unpack or table.unpack

local function args(input, level)
   if type(input) ~= 'table' or torch.typename(input) or #input < 1 then
      error('<nn.CriterionTable> input must be a table {input, target}, got ' .. torch.type(input), level)
   end
   return unpack(input)
end

function CriterionTable:updateOutput(input)
   self.output = self.criterion:updateOutput(args(input, 3))
   return self.output
end

-- the loss's gradient: the criterion's gradInput (the target has none); gradOutput, the
-- gradient of what follows with respect to the loss, is not used (as Torch7)
function CriterionTable:updateGradInput(input, gradOutput)
   local g = self.criterion:updateGradInput(args(input, 3))
   self.gradInput = {g}
   return self.gradInput
end

function CriterionTable:__tostring__()
   return torch.type(self) .. '(' .. tostring(self.criterion) .. ')'
end

return CriterionTable
