-- nn.ReverseTable: {a, b, c} -> {c, b, a} (the same tensors).
local schema = require('nn.schema')
local ReverseTable, parent = torch.class('nn.ReverseTable', 'nn.Module')

schema.parameterless(ReverseTable, 'reverses the order of a table: no fields of its own')

function ReverseTable:__init()
   parent.__init(self)
   self.output = {}
   self.gradInput = {}
end

function ReverseTable:updateOutput(inputTable)
   if type(inputTable) ~= 'table' or torch.isTensor(inputTable) then
      error('<nn.ReverseTable> input must be a table, got ' .. torch.type(inputTable), 2)
   end
   if type(self.output) ~= 'table' or torch.isTensor(self.output) then
      self.output = {}
   end
   for k in pairs(self.output) do self.output[k] = nil end
   local n = #inputTable
   for i = n, 1, -1 do
      self.output[n - i + 1] = inputTable[i]
   end
   return self.output
end

-- gradOutput in reverse order (the same tensors)
function ReverseTable:updateGradInput(inputTable, gradOutputTable)
   if type(gradOutputTable) ~= 'table' or torch.isTensor(gradOutputTable) then
      error('<nn.ReverseTable> gradOutput must be a table, got ' .. torch.type(gradOutputTable), 2)
   end
   if type(self.gradInput) ~= 'table' or torch.isTensor(self.gradInput) then
      self.gradInput = {}
   end
   for k in pairs(self.gradInput) do self.gradInput[k] = nil end
   local n = #gradOutputTable
   for i = n, 1, -1 do
      self.gradInput[n - i + 1] = gradOutputTable[i]
   end
   return self.gradInput
end

return ReverseTable
