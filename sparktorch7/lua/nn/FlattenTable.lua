-- nn.FlattenTable: a nested table of tensors as one flat list, depth first.
local schema = require('nn.schema')
local FlattenTable, parent = torch.class('nn.FlattenTable', 'nn.Module')

schema.declare(FlattenTable, {
   {'input_map', 'table?'},
})

function FlattenTable:__init()
   parent.__init(self)
   self.output = {}
   self.input_map = {}
   self.gradInput = {}
end

local function flatten(output, input)
   if torch.isTensor(input) or type(input) ~= 'table' then
      output[#output + 1] = input
   else
      for i = 1, #input do
         flatten(output, input[i])
      end
   end
end

function FlattenTable:updateOutput(input)
   if type(input) ~= 'table' then
      error('<nn.FlattenTable> input must be a table', 2)
   end
   local output = {}
   flatten(output, input)
   self.output = output
   return output
end

return FlattenTable
