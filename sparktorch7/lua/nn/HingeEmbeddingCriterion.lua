-- nn.HingeEmbeddingCriterion: the mean (or sum) of x where t = 1 and max(0, margin - x) where t = -1.
local schema = require('nn.schema')
local HingeEmbeddingCriterion, parent = torch.class('nn.HingeEmbeddingCriterion', 'nn.Criterion')

schema.declare(HingeEmbeddingCriterion, {
   {'margin', 'number?'},
})

function HingeEmbeddingCriterion:__init(margin)
   parent.__init(self)
   self.margin = margin or 1
   self.sizeAverage = true
end

function HingeEmbeddingCriterion:updateOutput(input, target)
   local x, t, n = self:_pair(input, target)
   local s = 0
   for i = 0, n - 1 do
      if t[i] > 0 then s = s + x[i] else local v = self.margin - x[i]; if v > 0 then s = s + v end end
   end
   if self.sizeAverage ~= false and n > 0 then
      s = s / n
   end
   self.output = s
   return s
end

-- dE/dx = 1 where t = 1; -1 where t = -1 and x <= margin, 0 beyond it; divided
-- by the element count with sizeAverage
function HingeEmbeddingCriterion:updateGradInput(input, target)
   local x, t, n = self:_pair(input, target)
   local _, g = self:_gradLike(input)
   local norm = self:_norm(n)
   for i = 0, n - 1 do
      if t[i] > 0 then
         g[i] = norm
      elseif x[i] > self.margin then
         g[i] = 0
      else
         g[i] = -norm
      end
   end
   return self.gradInput
end

return HingeEmbeddingCriterion
