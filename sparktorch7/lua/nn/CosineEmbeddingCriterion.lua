-- nn.CosineEmbeddingCriterion: input {x1, x2} (1D, or 2D batches of rows),
-- target y of 1 or -1 per pair: 1 - cos(x1, x2) where y = 1,
-- max(0, cos(x1, x2) - margin) where y = -1; averaged when sizeAverage.
local pointwise = require('nn.pointwise')
local schema = require('nn.schema')
local CosineEmbeddingCriterion, parent = torch.class('nn.CosineEmbeddingCriterion', 'nn.Criterion')

schema.declare(CosineEmbeddingCriterion, {
   {'margin', 'number?'},
})

function CosineEmbeddingCriterion:__init(margin)
   parent.__init(self)
   self.margin = margin or 0
   self.gradInput = {torch.Tensor(), torch.Tensor()}
   self.sizeAverage = true
end

function CosineEmbeddingCriterion:updateOutput(input, y)
   local a, b = pointwise.pairRows(input, 'nn.CosineEmbeddingCriterion')
   local rows, n = a:size(1), a:size(2)
   local ap, bp = a:data(), b:data()
   local targets
   if type(y) == 'number' then
      targets = function() return y end
   else
      local yc = pointwise.contiguous(y)
      local yp = yc:data()
      targets = function(r) return yp[r] end
   end
   local eps = 1e-12
   local s = 0
   for r = 0, rows - 1 do
      local dot, aa, bb, base = 0, eps, eps, r * n
      for j = base, base + n - 1 do
         dot = dot + ap[j] * bp[j]
         aa = aa + ap[j] * ap[j]
         bb = bb + bp[j] * bp[j]
      end
      local cos = dot / math.sqrt(aa * bb)
      if targets(r) > 0 then
         s = s + 1 - cos
      else
         s = s + math.max(0, cos - self.margin)
      end
   end
   if self.sizeAverage then
      s = s / rows
   end
   self.output = s
   return s
end

return CosineEmbeddingCriterion
