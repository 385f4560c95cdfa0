-- nn.CSubTable: input[1] - input[2], elementwise.
local pointwise = require('nn.pointwise')
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

return CSubTable
