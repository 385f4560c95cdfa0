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

-- the number of elements taken from a table of n (a negative length counts from the end)
function NarrowTable:_length(input)
   if type(input) ~= 'table' or torch.typename(input) then
      error('<nn.NarrowTable> input must be a table', 3)
   end
   local length = self.length
   if length < 0 then
      length = #input - self.offset + 2 + length
   end
   if self.offset < 1 or self.offset + length - 1 > #input then
      error(string.format('<nn.NarrowTable> elements %d to %d do not exist in a table of %d',
                          self.offset, self.offset + length - 1, #input), 3)
   end
   return length
end

function NarrowTable:updateOutput(input)
   local length = self:_length(input)
   local output = {}
   for i = 1, length do
      output[i] = input[self.offset + i - 1]
   end
   self.output = output
   return output
end

-- the taken elements get gradOutput's; the others zeros like themselves
function NarrowTable:updateGradInput(input, gradOutput)
   local length = self:_length(input)
   if type(gradOutput) ~= 'table' or #gradOutput ~= length then
      error(string.format('<nn.NarrowTable> gradOutput must be a table of %d elements', length), 2)
   end
   if type(self.gradInput) ~= 'table' or torch.typename(self.gradInput) then
      self.gradInput = {}
   end
   local grads = self.gradInput
   for i = 1, #input do
      if i >= self.offset and i < self.offset + length then
         grads[i] = gradOutput[i - self.offset + 1]
      else
         grads[i] = nn.utils.recursiveResizeAs(grads[i], input[i])
         nn.utils.recursiveFill(grads[i], 0)
      end
   end
   for i = #grads, #input + 1, -1 do
      grads[i] = nil
   end
   return grads
end

return NarrowTable
