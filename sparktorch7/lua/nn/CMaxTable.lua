-- nn.CMaxTable: the elementwise maximum of the tensors of the input table.
local pointwise = require('nn.pointwise')
local tablegrad = require('nn.tablegrad')
local schema = require('nn.schema')
local CMaxTable, parent = torch.class('nn.CMaxTable', 'nn.Module')

schema.parameterless(CMaxTable, 'combines the tensors of its input table: no fields of its own')

function CMaxTable:__init()
   parent.__init(self)
   self.gradInput = {}
end

function CMaxTable:updateOutput(input)
   local first = pointwise.firstOfTable(input, 'nn.CMaxTable')
   local y, x, n, back = pointwise.begin(self, first, 'nn.CMaxTable')
   if y ~= x then
      for i = 0, n - 1 do
         y[i] = x[i]
      end
   end
   for k = 2, #input do
      local v = pointwise.sameShape(input[k], first, k, 'nn.CMaxTable'):data()
      for i = 0, n - 1 do
         local b = v[i]
            if b > y[i] then y[i] = b end
      end
   end
   return pointwise.finish(self, first, back)
end

-- gradOutput goes to the input that gave each element of the output (the
-- first one of equal values, as forward), 0 to the others
function CMaxTable:updateGradInput(input, gradOutput)
   return tablegrad.toExtremes(self, input, gradOutput, 'nn.CMaxTable', 1)
end

return CMaxTable
