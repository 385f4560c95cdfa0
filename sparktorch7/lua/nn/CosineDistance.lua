-- nn.CosineDistance: input {a, b} gives the cosine similarity
-- a.b / sqrt((|a|^2 + 1e-12)(|b|^2 + 1e-12)) of a and b (1D) or of each pair
-- of rows (2D).
local pointwise = require('nn.pointwise')
local kernels = require('nn.kernels')
local schema = require('nn.schema')
local CosineDistance, parent = torch.class('nn.CosineDistance', 'nn.Module')

schema.parameterless(CosineDistance, 'combines the tensors of its input table: no fields of its own')

function CosineDistance:__init()
   parent.__init(self)
   self.gradInput = {torch.Tensor(), torch.Tensor()}
end

function CosineDistance:updateOutput(input)
   local a, b = pointwise.pairRows(input, 'nn.CosineDistance')
   local rows, n = a:size(1), a:size(2)
   local out = kernels.output(self, input[1], torch.LongStorage({rows}))
   local ap, bp, yp = a:data(), b:data(), out:data()
   local eps = 1e-12
   for r = 0, rows - 1 do
      local dot, aa, bb, base = 0, 0, 0, r * n
      for j = base, base + n - 1 do
         local x, y = ap[j], bp[j]
         dot = dot + x * y
         aa = aa + x * x
         bb = bb + y * y
      end
      yp[r] = dot * math.sqrt(1 / (aa + eps) * (1 / (bb + eps)))
   end
   return out
end

return CosineDistance
