-- nn.ConcatTable: applies every module to the same input; the output is the
-- table of their outputs.
local schema = require('nn.schema')
local ConcatTable, parent = torch.class('nn.ConcatTable', 'nn.Container')

schema.parameterless(ConcatTable, "a container: nn.Container's modules")

function ConcatTable:__init()
   parent.__init(self)
   self.modules = {}
   self.output = {}
end

function ConcatTable:updateOutput(input)
   local output = {}
   for i, module in ipairs(self.modules) do
      output[i] = self:rethrowErrors(module, i, 'updateOutput', input)
   end
   self.output = output
   return output
end

function ConcatTable:__tostring__()
   return self:_branchesString('   `-> ')
end

-- backward: child i gets the input and gradOutput[i]; the gradInput is their sum
function ConcatTable:_childArgs(input, gradOutput)
   if type(gradOutput) ~= 'table' or torch.typename(gradOutput) or #gradOutput < #self.modules then
      error(string.format('<nn.ConcatTable> gradOutput must be a table of %d elements, one per module',
                          #self.modules), 3)
   end
   local args = {}
   for i = 1, #self.modules do
      args[i] = {i, input, gradOutput[i]}
   end
   return args
end

ConcatTable._gatherGradInput = parent._sumGradInputs

return ConcatTable
