-- nn.PairwiseDistance: input {a, b} gives the p-norm distance ||a - b||_p of
-- a and b (1D) or of each pair of rows (2D). The norm is in self.norm.
local pointwise = require('nn.pointwise')
local kernels = require('nn.kernels')
local schema = require('nn.schema')
local PairwiseDistance, parent = torch.class('nn.PairwiseDistance', 'nn.Module')

schema.declare(PairwiseDistance, {
   {'norm', 'number'},
})

function PairwiseDistance:__init(p)
   parent.__init(self)
   if not p or p <= 0 then
      error('<nn.PairwiseDistance> usage: nn.PairwiseDistance(p) with p > 0', 2)
   end
   self.gradInput = {}
   self.norm = p
end

function PairwiseDistance:updateOutput(input)
   local a, b = pointwise.pairRows(input, 'nn.PairwiseDistance')
   local rows, n = a:size(1), a:size(2)
   local out = kernels.output(self, input[1], torch.LongStorage({rows}))
   local ap, bp, yp = a:data(), b:data(), out:data()
   local p = self.norm
   local abs = math.abs
   for r = 0, rows - 1 do
      local s, base = 0, r * n
      if p == math.huge then
         for j = base, base + n - 1 do
            local d = abs(ap[j] - bp[j])
            if d > s then s = d end
         end
      else
         for j = base, base + n - 1 do
            s = s + abs(ap[j] - bp[j]) ^ p
         end
         s = s ^ (1 / p)
      end
      yp[r] = s
   end
   return out
end

-- d||a - b||_p / da_k = sign(d_k) |d_k|^(p-1) / (y + 1e-6)^(p-1) with d = a - b (the 1e-6
-- of Torch7 keeps y = 0 finite; p = 1 gives sign(d), p = inf puts sign(d_k) at the largest
-- |d_k|); d/db = -d/da.
function PairwiseDistance:updateGradInput(input, gradOutput)
   local a, b = pointwise.pairRows(input, 'nn.PairwiseDistance')
   local ga, gb, go, rows, n = pointwise.pairGrad(self, input, gradOutput, 'nn.PairwiseDistance')
   local ap, bp = a:data(), b:data()
   local y = pointwise.outputData(self, rows, 'nn.PairwiseDistance')
   local p, abs = self.norm, math.abs
   for r = 0, rows - 1 do
      local g, base = go[r], r * n
      if p == math.huge then
         local at, best = base, -1
         for j = base, base + n - 1 do
            ga[j] = 0
            local v = abs(ap[j] - bp[j])
            if v > best then best, at = v, j end
         end
         local d = ap[at] - bp[at]
         ga[at] = g * ((d > 0 and 1) or (d < 0 and -1) or 0)
      else
         local scale = p == 1 and 1 or (y[r] + 1e-6) ^ (1 - p)
         for j = base, base + n - 1 do
            local d = ap[j] - bp[j]
            local s = (d > 0 and 1) or (d < 0 and -1) or 0
            if p == 1 then
               ga[j] = g * s
            else
               ga[j] = g * s * abs(d) ^ (p - 1) * scale
            end
         end
      end
      for j = base, base + n - 1 do
         gb[j] = -ga[j]
      end
   end
   return self.gradInput
end

return PairwiseDistance
