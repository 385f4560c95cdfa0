-- nn.CAddTensorTable: {v, {a, b, c}} -> {a + v, b + v, c + v}; backward gives v the sum
-- of the gradients and each tensor of the list its own.
local schema = require('nn.schema')
local tablegrad = require('nn.tablegrad')
local CAddTensorTable, parent = torch.class('nn.CAddTensorTable', 'nn.Module')

schema.parameterless(CAddTensorTable, 'adds a tensor to each of a list: no fields of its own')

function CAddTensorTable:__init()
   parent.__init(self)
   self.output = {}
   self.gradInput = {}
end

local function isList(t)
   return type(t) == 'table' and not torch.typename(t)
end

-- input checked to be {tensor, list of tensors of its size}; returns them
local function split(input, level)
   if not isList(input) or not torch.isTensor(input[1]) or not isList(input[2]) then
      error('<nn.CAddTensorTable> input must be a table {tensor, {tensors...}}, got ' ..
            (isList(input) and 'a table of ' .. #input .. ' entries' or torch.type(input)), level)
   end
   local v, list = input[1], input[2]
   for i, t in ipairs(list) do
      if not torch.isTensor(t) or t:nElement() ~= v:nElement() then
         error(string.format('<nn.CAddTensorTable> input[2][%d] must be a tensor of %d elements (input[1]\'s), got %s',
                             i, v:nElement(), torch.isTensor(t) and t:nElement() .. ' elements' or torch.type(t)), level)
      end
   end
   return v, list
end

function CAddTensorTable:updateOutput(input)
   local v, list = split(input, 3)
   if not isList(self.output) then self.output = {} end
   for i, t in ipairs(list) do
      local out = tablegrad.slot(self.output, i, v)
      out:copy(t):add(v)
   end
   for i = #self.output, #list + 1, -1 do
      self.output[i] = nil
   end
   return self.output
end

function CAddTensorTable:updateGradInput(input, gradOutput)
   local v, list = split(input, 3)
   if not isList(gradOutput) or #gradOutput < #list then
      error(string.format('<nn.CAddTensorTable> gradOutput must be a table of %d tensors, got %s', #list,
                          isList(gradOutput) and 'a table of ' .. #gradOutput .. ' entries' or torch.type(gradOutput)), 2)
   end
   local gi = tablegrad.table(self, 2)
   local gv = tablegrad.slot(gi, 1, v):zero()
   if not isList(gi[2]) then gi[2] = {} end
   for i = 1, #list do
      local g = tablegrad.gradOutput(gradOutput[i], v:nElement(), 'nn.CAddTensorTable')
      gv:add(g:viewAs(v))
      tablegrad.slot(gi[2], i, v):copy(g)
   end
   for i = #gi[2], #list + 1, -1 do
      gi[2][i] = nil
   end
   return self.gradInput
end

return CAddTensorTable
