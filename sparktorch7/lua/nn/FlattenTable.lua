-- nn.FlattenTable: a nested table of tensors as one flat list, depth first.
-- input_map has the nesting of the input and holds, for each tensor, its
-- place in the output; the output table is rebuilt only when the input's
-- nesting or tensors change (as Torch7), and backward nests the gradOutput
-- list back the same way.
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

-- appends the leaves of input to output; returns input's map
local function flatten(output, input)
   if type(input) == 'table' and not torch.typename(input) then
      local map = {}
      for i = 1, #input do
         map[i] = flatten(output, input[i])
      end
      return map
   end
   output[#output + 1] = input
   return #output
end

-- true when flat[map's places] are exactly nested's leaves (same objects)
local function matches(flat, nested, map)
   if flat == nil or nested == nil or map == nil then
      return false
   end
   if type(nested) == 'table' and not torch.typename(nested) then
      if type(map) ~= 'table' or #nested ~= #map then
         return false
      end
      for i = 1, #nested do
         if not matches(flat, nested[i], map[i]) then
            return false
         end
      end
      return true
   end
   return type(map) == 'number' and flat[map] == nested
end

-- the elements of flat nested as map says
local function unflatten(flat, map)
   if type(map) == 'table' then
      local nested = {}
      for i = 1, #map do
         nested[i] = unflatten(flat, map[i])
      end
      return nested
   end
   return flat[map]
end

function FlattenTable:updateOutput(input)
   if type(input) ~= 'table' or torch.typename(input) then
      error('<nn.FlattenTable> input must be a table', 2)
   end
   if not matches(self.output, input, self.input_map) then
      self.output = {}
      self.input_map = flatten(self.output, input)
   end
   return self.output
end

function FlattenTable:updateGradInput(input, gradOutput)
   if type(input) ~= 'table' or torch.typename(input) then
      error('<nn.FlattenTable> input must be a table', 2)
   end
   if type(gradOutput) ~= 'table' or torch.typename(gradOutput) then
      error('<nn.FlattenTable> gradOutput must be a table', 2)
   end
   if type(self.input_map) ~= 'table' or not matches(self.output, input, self.input_map) then
      -- the input changed since forward: map it again
      self.output = {}
      self.input_map = flatten(self.output, input)
   end
   if #gradOutput ~= #self.output then
      error(string.format('<nn.FlattenTable> gradOutput has %d elements, the output %d',
                          #gradOutput, #self.output), 2)
   end
   if not matches(gradOutput, self.gradInput, self.input_map) then
      self.gradInput = unflatten(gradOutput, self.input_map)
   end
   return self.gradInput
end

-- it holds references only: type conversion just forgets them
function FlattenTable:type(typename, tensorCache)
   if not typename then
      return parent.type(self)
   end
   self:clearState()
   self._type = nn.utils.cpuType(typename)
   return self
end

function FlattenTable:clearState()
   self.input_map = {}
   return parent.clearState(self)
end

return FlattenTable
