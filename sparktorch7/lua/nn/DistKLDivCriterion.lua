-- nn.DistKLDivCriterion: the mean (or sum) of t (log t - x) over t > 0 (x are log-probabilities).
local schema = require('nn.schema')
local DistKLDivCriterion, parent = torch.class('nn.DistKLDivCriterion', 'nn.Criterion')

schema.parameterless(DistKLDivCriterion, "its only fields (output, gradInput, sizeAverage) are nn.Criterion's")

function DistKLDivCriterion:__init(sizeAverage)
   parent.__init(self)
   if sizeAverage ~= nil then self.sizeAverage = sizeAverage else self.sizeAverage = true end
end

function DistKLDivCriterion:updateOutput(input, target)
   local x, t, n = self:_pair(input, target)
   local s = 0
   for i = 0, n - 1 do
      local tv = t[i]
      if tv > 0 then s = s + tv * (math.log(tv) - x[i]) end
   end
   if self.sizeAverage ~= false and n > 0 then
      s = s / n
   end
   self.output = s
   return s
end

-- dE/dx = -t where t > 0 (0 elsewhere), divided by the element count with sizeAverage
function DistKLDivCriterion:updateGradInput(input, target)
   local x, t, n = self:_pair(input, target)
   local _, g = self:_gradLike(input)
   local norm = self:_norm(n)
   for i = 0, n - 1 do
      local tv = t[i]
      g[i] = tv > 0 and -norm * tv or 0
   end
   return self.gradInput
end

return DistKLDivCriterion
