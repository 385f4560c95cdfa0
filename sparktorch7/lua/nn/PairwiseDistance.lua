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

return PairwiseDistance
