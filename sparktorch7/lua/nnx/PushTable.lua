-- nn.PushTable(index): nnx's table element stash: forward passes its input table on without
-- element `index`, which it hands to each nn.PullTable made by push:pull(index2); that
-- PullTable inserts the element at index2 of its own input table (or pairs it with a
-- tensor input). The backward routes the gradients the same way.
local schema = require('nn.schema')
local PushTable, parent = torch.class('nn.PushTable', 'nn.Module')

schema.declare(PushTable, {
   {'_index', 'posint'},
})

function PushTable:__init(index)
   parent.__init(self)
   if type(index) ~= 'number' then
      error('<nn.PushTable> expects the index of the element to push, got ' .. type(index), 2)
   end
   self._index = index
   self._pulls = {}
   self.output = {}
   self._gradInput = torch.Tensor()
   self.gradInput = {}
   self._forward = false
end

function PushTable:pull(index)
   local pull = nn.PullTable(self, index)
   table.insert(self._pulls, pull)
   return pull
end

function PushTable:updateOutput(inputTable)
   if type(inputTable) ~= 'table' or torch.typename(inputTable) then
      error('<nn.PushTable> input must be a table, got ' .. torch.type(inputTable), 2)
   end
   if inputTable[self._index] == nil then
      error(string.format('<nn.PushTable> input table has %d elements, no element %d to push',
                          #inputTable, self._index), 2)
   end
   self.output = {}
   for i, input in ipairs(inputTable) do
      if i < self._index then self.output[i] = input
      elseif i > self._index then self.output[i - 1] = input end
   end
   for _, pull in ipairs(self._pulls) do pull:_updateOutput(inputTable[self._index]) end
   self._forward = true
   return self.output
end

-- the gradients of the pulled copies add up
function PushTable:_updateGradInput(gradOutput)
   if self._forward then
      self._gradInput = gradOutput:clone()
   else
      self._gradInput:add(gradOutput)
   end
   self._forward = false
end

function PushTable:updateGradInput(inputTable, gradOutputTable)
   self.gradInput = {}
   for i, g in ipairs(gradOutputTable) do
      if i < self._index then self.gradInput[i] = g
      else self.gradInput[i + 1] = g end
   end
   self.gradInput[self._index] = self._gradInput
   return self.gradInput
end

-- the pulls are converted where they sit in the model
PushTable.type = require('nnx.args').typeExcept('_pulls')

return PushTable
