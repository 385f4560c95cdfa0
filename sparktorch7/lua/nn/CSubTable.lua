-- nn.CSubTable: input[1] - input[2], elementwise.
local pointwise = require('nn.pointwise')
local tablegrad = require('nn.tablegrad')
local schema = require('nn.schema')
local CSubTable, parent = torch.class('nn.CSubTable', 'nn.Module')

schema.parameterless(CSubTable, 'combines the tensors of its input table: no fields of its own')

function CSubTable:__init()
   parent.__init(self)
   self.gradInput = {}
end

function CSubTable:updateOutput(input)
   local first = pointwise.firstOfTable(input, 'nn.CSubTable')
   if #input ~= 2 then
      error('<nn.CSubTable> input must be a table of two tensors', 2)
   end
   local y, x, n, back = pointwise.begin(self, first, 'nn.CSubTable')
   if y ~= x then
      for i = 0, n - 1 do
         y[i] = x[i]
      end
   end
   for k = 2, 2 do
      local v = pointwise.sameShape(input[k], first, k, 'nn.CSubTable'):data()
      for i = 0, n - 1 do
         y[i] = y[i] - v[i]
      end
   end
   return pointwise.finish(self, first, back)
end

-- gradOutput for input[1], -gradOutput for input[2]
function CSubTable:updateGradInput(input, gradOutput)
   local first = pointwise.firstOfTable(input, 'nn.CSubTable')
   local go = tablegrad.gradOutput(gradOutput, first:nElement(), 'nn.CSubTable')
   tablegrad.table(self, 2)
   local g1 = tablegrad.like(self, 1, input[1])
   local g2 = tablegrad.like(self, 2, input[2])
   g1:copy(go:view(input[1]:size()))
   g2:copy(go:view(input[2]:size())):mul(-1)
   return self.gradInput
end

return CSubTable
