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

local EPS = 1e-12

-- a.b, |a|^2 + eps and |b|^2 + eps of row r (base = r * n) of two contiguous row batches
local function rowStats(ap, bp, base, n)
   local dot, aa, bb = 0, 0, 0
   for j = base, base + n - 1 do
      local x, y = ap[j], bp[j]
      dot = dot + x * y
      aa = aa + x * x
      bb = bb + y * y
   end
   return dot, aa + EPS, bb + EPS
end

function CosineDistance:updateOutput(input)
   local a, b = pointwise.pairRows(input, 'nn.CosineDistance')
   local rows, n = a:size(1), a:size(2)
   local out = kernels.output(self, input[1], torch.LongStorage({rows}))
   local ap, bp, yp = a:data(), b:data(), out:data()
   for r = 0, rows - 1 do
      local dot, aa, bb = rowStats(ap, bp, r * n, n)
      yp[r] = dot * math.sqrt(1 / aa * (1 / bb))
   end
   return out
end

-- With w = 1 / sqrt((|a|^2 + eps)(|b|^2 + eps)) and y = a.b w:
-- dy/da = w b - y a / (|a|^2 + eps), dy/db = w a - y b / (|b|^2 + eps)
function CosineDistance:updateGradInput(input, gradOutput)
   local a, b = pointwise.pairRows(input, 'nn.CosineDistance')
   local ga, gb, go, rows, n = pointwise.pairGrad(self, input, gradOutput, 'nn.CosineDistance')
   local ap, bp = a:data(), b:data()
   for r = 0, rows - 1 do
      local base = r * n
      local dot, aa, bb = rowStats(ap, bp, base, n)
      local w = math.sqrt(1 / aa * (1 / bb))
      local y = dot * w
      local g = go[r]
      for j = base, base + n - 1 do
         ga[j] = g * (w * bp[j] - y * ap[j] / aa)
         gb[j] = g * (w * ap[j] - y * bp[j] / bb)
      end
   end
   return self.gradInput
end

return CosineDistance
