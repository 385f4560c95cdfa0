-- nn.CDivTable: input[1] / input[2], elementwise.
local pointwise = require('nn.pointwise')
local tablegrad = require('nn.tablegrad')
local schema = require('nn.schema')
local CDivTable, parent = torch.class('nn.CDivTable', 'nn.Module')

schema.parameterless(CDivTable, 'combines the tensors of its input table: no fields of its own')

function CDivTable:__init()
   parent.__init(self)
   self.gradInput = {}
end

function CDivTable:updateOutput(input)
   local first = pointwise.firstOfTable(input, 'nn.CDivTable')
   if #input ~= 2 then
      error('<nn.CDivTable> input must be a table of two tensors', 2)
   end
   local y, x, n, back = pointwise.begin(self, first, 'nn.CDivTable')
   if y ~= x then
      for i = 0, n - 1 do
         y[i] = x[i]
      end
   end
   for k = 2, 2 do
      local v = pointwise.sameShape(input[k], first, k, 'nn.CDivTable'):data()
      for i = 0, n - 1 do
         y[i] = y[i] / v[i]
      end
   end
   return pointwise.finish(self, first, back)
end

-- d(a / b)/da = 1 / b, d(a / b)/db = -a / b^2
function CDivTable:updateGradInput(input, gradOutput)
   local first = pointwise.firstOfTable(input, 'nn.CDivTable')
   local n = first:nElement()
   local go = tablegrad.gradOutput(gradOutput, n, 'nn.CDivTable'):data()
   local a = pointwise.contiguous(first):data()
   local b = pointwise.sameShape(input[2], first, 2, 'nn.CDivTable'):data()
   tablegrad.table(self, 2)
   local _, ga = tablegrad.like(self, 1, input[1])
   local _, gb = tablegrad.like(self, 2, input[2])
   for i = 0, n - 1 do
      local q = go[i] / b[i]
      ga[i] = q
      gb[i] = -q * a[i] / b[i]
   end
   return self.gradInput
end

return CDivTable
