-- nn.NarrowTable: the sub-table of length elements of the input table,
-- starting at offset.
local schema = require('nn.schema')
local NarrowTable, parent = torch.class('nn.NarrowTable', 'nn.Module')

schema.declare(NarrowTable, {
   {'offset', 'int'}, {'length', 'int?'},
})

function NarrowTable:__init(offset, length)
   parent.__init(self)
   self.offset = offset
   self.length = length or 1
   if not offset then
      error('<nn.NarrowTable> usage: nn.NarrowTable(offset[, length])', 2)
   end
   self.output = {}
   self.gradInput = {}
end

function NarrowTable:updateOutput(input)
   if type(input) ~= 'table' then
      error('<nn.NarrowTable> input must be a table', 2)
   end
   local length = self.length
   if length < 0 then
      length = #input - self.offset + 2 + length
   end
   if self.offset < 1 or self.offset + length - 1 > #input then
      error(string.format('<nn.NarrowTable> elements %d to %d do not exist in a table of %d',
                          self.offset, self.offset + length - 1, #input), 2)
   end
   local output = {}
   for i = 1, length do
      output[i] = input[self.offset + i - 1]
   end
   self.output = output
   return output
end

return NarrowTable
