-- nn.CMulTable: the elementwise product of the tensors of the input table.
local pointwise = require('nn.pointwise')
local tablegrad = require('nn.tablegrad')
local schema = require('nn.schema')
local CMulTable, parent = torch.class('nn.CMulTable', 'nn.Module')

schema.parameterless(CMulTable, 'combines the tensors of its input table: no fields of its own')

function CMulTable:__init()
   parent.__init(self)
   self.gradInput = {}
end

function CMulTable:updateOutput(input)
   local first = pointwise.firstOfTable(input, 'nn.CMulTable')
   local y, x, n, back = pointwise.begin(self, first, 'nn.CMulTable')
   if y ~= x then
      for i = 0, n - 1 do
         y[i] = x[i]
      end
   end
   for k = 2, #input do
      local v = pointwise.sameShape(input[k], first, k, 'nn.CMulTable'):data()
      for i = 0, n - 1 do
         y[i] = y[i] * v[i]
      end
   end
   return pointwise.finish(self, first, back)
end

-- input i gets gradOutput times the product of the other inputs
function CMulTable:updateGradInput(input, gradOutput)
   local first = pointwise.firstOfTable(input, 'nn.CMulTable')
   local n = first:nElement()
   local go = tablegrad.gradOutput(gradOutput, n, 'nn.CMulTable'):data()
   local xs = {}
   for k = 1, #input do
      xs[k] = pointwise.sameShape(input[k], first, k, 'nn.CMulTable'):data()
   end
   tablegrad.table(self, #input)
   for k = 1, #input do
      local _, g = tablegrad.like(self, k, input[k])
      for i = 0, n - 1 do
         g[i] = go[i]
      end
      for j = 1, #input do
         if j ~= k then
            local x = xs[j]
            for i = 0, n - 1 do
               g[i] = g[i] * x[i]
            end
         end
      end
   end
   return self.gradInput
end

return CMulTable
