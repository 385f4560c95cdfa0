-- nn.CAddTable: the elementwise sum of the tensors of the input table.
local pointwise = require('nn.pointwise')
local tablegrad = require('nn.tablegrad')
local schema = require('nn.schema')
local CAddTable, parent = torch.class('nn.CAddTable', 'nn.Module')

schema.declare(CAddTable, {
   {'inplace', 'boolean?'},
})

function CAddTable:__init(ip)
   parent.__init(self)
   self.inplace = ip or false
   self.gradInput = {}
end

function CAddTable:updateOutput(input)
   local first = pointwise.firstOfTable(input, 'nn.CAddTable')
   local y, x, n, back = pointwise.begin(self, first, 'nn.CAddTable')
   if y ~= x then
      for i = 0, n - 1 do
         y[i] = x[i]
      end
   end
   for k = 2, #input do
      local v = pointwise.sameShape(input[k], first, k, 'nn.CAddTable'):data()
      for i = 0, n - 1 do
         y[i] = y[i] + v[i]
      end
   end
   return pointwise.finish(self, first, back)
end

-- every input gets gradOutput (the same tensor when inplace, as Torch7; a copy otherwise)
function CAddTable:updateGradInput(input, gradOutput)
   local first = pointwise.firstOfTable(input, 'nn.CAddTable')
   local go = tablegrad.gradOutput(gradOutput, first:nElement(), 'nn.CAddTable')
   local grads = tablegrad.table(self, #input)
   for i = 1, #input do
      if self.inplace then
         grads[i] = gradOutput
      else
         local g = tablegrad.like(self, i, input[i])
         g:copy(go:view(input[i]:size()))
      end
   end
   return self.gradInput
end

return CAddTable
