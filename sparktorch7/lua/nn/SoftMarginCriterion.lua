-- nn.SoftMarginCriterion: the mean (or sum) of log(1 + exp(-t x)), targets 1 or -1.
local schema = require('nn.schema')
local SoftMarginCriterion, parent = torch.class('nn.SoftMarginCriterion', 'nn.Criterion')

schema.parameterless(SoftMarginCriterion, "its only fields (output, gradInput, sizeAverage) are nn.Criterion's")

function SoftMarginCriterion:__init()
   parent.__init(self)
   self.sizeAverage = true
end

function SoftMarginCriterion:updateOutput(input, target)
   local x, t, n = self:_pair(input, target)
   local s = 0
   for i = 0, n - 1 do
      local z = -t[i] * x[i]
      if z > 0 then s = s + z + math.log(1 + math.exp(-z)) else s = s + math.log(1 + math.exp(z)) end
   end
   if self.sizeAverage ~= false and n > 0 then
      s = s / n
   end
   self.output = s
   return s
end

-- dE/dx = -t exp(-t x) / (1 + exp(-t x)) = -t / (1 + exp(t x)) (the second form
-- never overflows), divided by the element count with sizeAverage
function SoftMarginCriterion:updateGradInput(input, target)
   local x, t, n = self:_pair(input, target)
   local _, g = self:_gradLike(input)
   local norm = self:_norm(n)
   local exp = math.exp
   for i = 0, n - 1 do
      local tv = t[i]
      g[i] = -norm * tv / (1 + exp(tv * x[i]))
   end
   return self.gradInput
end

return SoftMarginCriterion
