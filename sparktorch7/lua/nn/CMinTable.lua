-- nn.CMinTable: the elementwise minimum of the tensors of the input table.
local pointwise = require('nn.pointwise')
local tablegrad = require('nn.tablegrad')
local schema = require('nn.schema')
local CMinTable, parent = torch.class('nn.CMinTable', 'nn.Module')

schema.parameterless(CMinTable, 'combines the tensors of its input table: no fields of its own')

function CMinTable:__init()
   parent.__init(self)
   self.gradInput = {}
end

function CMinTable:updateOutput(input)
   local first = pointwise.firstOfTable(input, 'nn.CMinTable')
   local y, x, n, back = pointwise.begin(self, first, 'nn.CMinTable')
   if y ~= x then
      for i = 0, n - 1 do
         y[i] = x[i]
      end
   end
   for k = 2, #input do
      local v = pointwise.sameShape(input[k], first, k, 'nn.CMinTable'):data()
      for i = 0, n - 1 do
         local b = v[i]
            if b < y[i] then y[i] = b end
      end
   end
   return pointwise.finish(self, first, back)
end

-- gradOutput goes to the input that gave each element of the output (the
-- first one of equal values, as forward), 0 to the others
function CMinTable:updateGradInput(input, gradOutput)
   return tablegrad.toExtremes(self, input, gradOutput, 'nn.CMinTable', -1)
end

return CMinTable
