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

-- The targets of the rows as a function of the 0-based row.
local function targetsOf(y, rows)
   if type(y) == 'number' then
      return function() return y end
   end
   if not torch.isTensor(y) or y:nElement() ~= rows then
      error(string.format('<nn.CosineEmbeddingCriterion> target must be a number or a tensor of %d '
                          .. 'elements, not %s', rows,
                          torch.isTensor(y) and ('one of ' .. y:nElement()) or ('a ' .. torch.type(y))), 3)
   end
   local yp = pointwise.contiguous(y):data()
   return function(r) return yp[r] end
end

local EPS = 1e-12

-- dot(a, b), |a|^2 + eps and |b|^2 + eps of row r
local function rowSums(ap, bp, r, n)
   local dot, aa, bb, base = 0, EPS, EPS, r * n
   for j = base, base + n - 1 do
      dot = dot + ap[j] * bp[j]
      aa = aa + ap[j] * ap[j]
      bb = bb + bp[j] * bp[j]
   end
   return dot, aa, bb
end

-- the loss of one row: 1 - cos for y = 1, max(0, cos - margin) otherwise
local function rowLoss(self, cos, y)
   if y > 0 then
      return 1 - cos
   end
   return math.max(0, cos - self.margin)
end

function CosineEmbeddingCriterion:updateOutput(input, y)
   local a, b = pointwise.pairRows(input, 'nn.CosineEmbeddingCriterion')
   local rows, n = a:size(1), a:size(2)
   local ap, bp = a:data(), b:data()
   local targets = targetsOf(y, rows)
   local s = 0
   for r = 0, rows - 1 do
      local dot, aa, bb = rowSums(ap, bp, r, n)
      s = s + rowLoss(self, dot / math.sqrt(aa * bb), targets(r))
   end
   if self.sizeAverage then
      s = s / rows
   end
   self.output = s
   return s
end

-- d cos / d a = b / (|a| |b|) - cos a / |a|^2 (and symmetrically for b), with
-- the sign of the row's loss; 0 for rows whose loss is 0 (Torch7 masks the
-- rows whose loss is <= 0); divided by the rows with sizeAverage.
function CosineEmbeddingCriterion:updateGradInput(input, y)
   local a, b = pointwise.pairRows(input, 'nn.CosineEmbeddingCriterion')
   local rows, n = a:size(1), a:size(2)
   local ap, bp = a:data(), b:data()
   local targets = targetsOf(y, rows)
   local _, ga = self:_gradLike(input[1], 1)
   local _, gb = self:_gradLike(input[2], 2)
   local avg = self.sizeAverage and rows or 1
   for r = 0, rows - 1 do
      local dot, aa, bb = rowSums(ap, bp, r, n)
      local inv = 1 / math.sqrt(aa * bb)
      local cos = dot * inv
      local yr = targets(r)
      local sign = 0
      if rowLoss(self, cos, yr) > 0 then
         sign = (yr > 0 and -1 or 1) / avg
      end
      local ca, cb = dot / aa, dot / bb
      for j = r * n, r * n + n - 1 do
         ga[j] = sign * (bp[j] - ca * ap[j]) * inv
         gb[j] = sign * (ap[j] - cb * bp[j]) * inv
      end
   end
   return self.gradInput
end

return CosineEmbeddingCriterion
