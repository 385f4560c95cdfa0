-- nn.ParallelTable: module i is applied to input[i].
local schema = require('nn.schema')
local ParallelTable, parent = torch.class('nn.ParallelTable', 'nn.Container')

schema.parameterless(ParallelTable, "a container: nn.Container's modules")

function ParallelTable:__init()
   parent.__init(self)
   self.modules = {}
   self.output = {}
   self.gradInput = {}
end

function ParallelTable:updateOutput(input)
   if type(input) ~= 'table' then
      error('<nn.ParallelTable> input must be a table of inputs, one per module', 2)
   end
   local output = {}
   for i, module in ipairs(self.modules) do
      output[i] = self:rethrowErrors(module, i, 'updateOutput', input[i])
   end
   self.output = output
   return output
end

function ParallelTable:__tostring__()
   return self:_branchesString('   `-> ')
end

return ParallelTable
