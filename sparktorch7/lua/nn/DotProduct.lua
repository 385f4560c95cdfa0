-- nn.DotProduct: input {a, b} gives the dot product of a and b (1D), or of
-- each pair of rows (2D batches).
local pointwise = require('nn.pointwise')
local kernels = require('nn.kernels')
local schema = require('nn.schema')
local DotProduct, parent = torch.class('nn.DotProduct', 'nn.Module')

schema.parameterless(DotProduct, 'combines the tensors of its input table: no fields of its own')

function DotProduct:__init()
   parent.__init(self)
   self.gradInput = {torch.Tensor(), torch.Tensor()}
end

function DotProduct:updateOutput(input)
   local a, b = pointwise.pairRows(input, 'nn.DotProduct')
   local rows, n = a:size(1), a:size(2)
   local out = kernels.output(self, input[1], torch.LongStorage({rows}))
   local ap, bp, yp = a:data(), b:data(), out:data()
   for r = 0, rows - 1 do
      local s, base = 0, r * n
      for j = base, base + n - 1 do
         s = s + ap[j] * bp[j]
      end
      yp[r] = s
   end
   return out
end

return DotProduct
