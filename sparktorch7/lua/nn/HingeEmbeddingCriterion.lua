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

return HingeEmbeddingCriterion
