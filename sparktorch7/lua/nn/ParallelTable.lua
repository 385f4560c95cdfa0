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

-- backward: child i gets input[i] and gradOutput[i]; gradInput[i] is its gradInput
function ParallelTable:_childArgs(input, gradOutput)
   if type(gradOutput) ~= 'table' or torch.typename(gradOutput) then
      error('<nn.ParallelTable> gradOutput must be a table, one element per module', 3)
   end
   local args = {}
   for i = 1, #self.modules do
      args[i] = {i, input[i], gradOutput[i]}
   end
   return args
end

function ParallelTable:_gatherGradInput(input, grads)
   if type(self.gradInput) ~= 'table' or torch.typename(self.gradInput) then
      self.gradInput = {}
   end
   for i = 1, #self.modules do
      self.gradInput[i] = grads[i]
   end
   for i = #self.gradInput, #self.modules + 1, -1 do
      self.gradInput[i] = nil
   end
   return self.gradInput
end

return ParallelTable
