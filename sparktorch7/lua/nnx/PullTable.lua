-- nn.PullTable(push, index): made by nn.PushTable:pull(index); inserts the element its push
-- took out at `index` of its own input table, or, for a tensor input, makes the pair
-- {pushed, input} (index 1) or {input, pushed} (index 2).
local schema = require('nn.schema')
local PullTable, parent = torch.class('nn.PullTable', 'nn.Module')

schema.declare(PullTable, {
   {'_index', 'posint'},
   {'_push', 'module'},
})

function PullTable:__init(push, index)
   parent.__init(self)
   self._push = push
   self._index = index
   self.output = {}
   self.gradInput = {}
end

function PullTable:_updateOutput(output)
   self._output = output
end

function PullTable:updateOutput(input)
   if self._output == nil then
      error('<nn.PullTable> its nn.PushTable has not run a forward yet', 2)
   end
   self.output = {}
   if type(input) == 'table' and not torch.typename(input) then
      for i, x in ipairs(input) do
         if i < self._index then self.output[i] = x else self.output[i + 1] = x end
      end
      self.output[self._index] = self._output
   elseif self._index == 1 then
      self.output[1], self.output[2] = self._output, input
   elseif self._index == 2 then
      self.output[1], self.output[2] = input, self._output
   else
      error(string.format('<nn.PullTable> index %d is out of range for a tensor input (1 or 2)', self._index), 2)
   end
   return self.output
end

function PullTable:updateGradInput(input, gradOutputTable)
   self._push:_updateGradInput(gradOutputTable[self._index])
   if type(input) == 'table' and not torch.typename(input) then
      self.gradInput = {}
      for i, g in ipairs(gradOutputTable) do
         if i < self._index then self.gradInput[i] = g
         elseif i > self._index then self.gradInput[i - 1] = g end
      end
   else
      self.gradInput = gradOutputTable[self._index == 1 and 2 or 1]
   end
   return self.gradInput
end

-- its push is converted where it sits in the model
PullTable.type = require('nnx.args').typeExcept('_push')

return PullTable
