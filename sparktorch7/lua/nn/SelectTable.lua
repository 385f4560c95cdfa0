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

-- self.index resolved against input (negative counts from the end), checked
function SelectTable:_index(input)
   if type(input) ~= 'table' or torch.typename(input) then
      error('<nn.SelectTable> input must be a table', 3)
   end
   local index = self.index
   if type(index) == 'number' and index < 0 then
      index = #input + index + 1
   end
   if input[index] == nil then
      error(string.format('<nn.SelectTable> index %s does not exist in a table of %d elements',
                          tostring(self.index), #input), 3)
   end
   return index
end

function SelectTable:updateOutput(input)
   self.output = input[self:_index(input)]
   return self.output
end

-- t made a zero copy of src's nesting (tensors resized and zeroed), its other keys dropped
local function zeroLike(t, src)
   if torch.isTensor(src) then
      if not torch.isTensor(t) or torch.type(t) ~= torch.type(src) or t == src then
         t = nn.utils.newLike(src)
      end
      return t:resizeAs(src):zero()
   end
   if type(src) ~= 'table' then
      return nil
   end
   if type(t) ~= 'table' or torch.typename(t) then
      t = {}
   end
   for k, v in pairs(src) do
      t[k] = zeroLike(t[k], v)
   end
   for k in pairs(t) do
      if src[k] == nil then t[k] = nil end
   end
   return t
end

-- zeros like the input but for the selected element, which gets a copy of gradOutput
function SelectTable:updateGradInput(input, gradOutput)
   local index = self:_index(input)
   self.gradInput = zeroLike(self.gradInput, input)
   self.gradInput[index] = nn.utils.recursiveCopy(self.gradInput[index], gradOutput)
   return self.gradInput
end

function SelectTable:type(typename, tensorCache)
   if typename then
      self.gradInput = {}
      self.output = {}
   end
   return parent.type(self, typename, tensorCache)
end

function SelectTable:__tostring__()
   return torch.type(self) .. '(' .. tostring(self.index) .. ')'
end

return SelectTable
