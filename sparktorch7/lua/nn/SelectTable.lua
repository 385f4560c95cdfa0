-- nn.SelectTable: element index of the input table (negative counts from the end).
local schema = require('nn.schema')
local SelectTable, parent = torch.class('nn.SelectTable', 'nn.Module')

schema.declare(SelectTable, {
   {'index', 'int|string'},
})

function SelectTable:__init(index)
   parent.__init(self)
   self.index = index
   self.gradInput = {}
end

function SelectTable:updateOutput(input)
   if type(input) ~= 'table' then
      error('<nn.SelectTable> input must be a table', 2)
   end
   local index = self.index
   if type(index) == 'number' and index < 0 then
      index = #input + index + 1
   end
   if input[index] == nil then
      error(string.format('<nn.SelectTable> index %s does not exist in a table of %d elements',
                          tostring(self.index), #input), 2)
   end
   self.output = input[index]
   return self.output
end

function SelectTable:__tostring__()
   return torch.type(self) .. '(' .. tostring(self.index) .. ')'
end

return SelectTable
