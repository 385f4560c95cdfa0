-- nn.SmoothL1Criterion: the mean (or sum) of 0.5 (x - t)^2 where |x - t| < 1, |x - t| - 0.5 elsewhere.
local schema = require('nn.schema')
local SmoothL1Criterion, parent = torch.class('nn.SmoothL1Criterion', 'nn.Criterion')

schema.parameterless(SmoothL1Criterion, "its only fields (output, gradInput, sizeAverage) are nn.Criterion's")

function SmoothL1Criterion:__init(sizeAverage)
   parent.__init(self)
   if sizeAverage ~= nil then self.sizeAverage = sizeAverage else self.sizeAverage = true end
end

function SmoothL1Criterion:updateOutput(input, target)
   local x, t, n = self:_pair(input, target)
   local s = 0
   for i = 0, n - 1 do
      local d = math.abs(x[i] - t[i])
      if d < 1 then s = s + 0.5 * d * d else s = s + d - 0.5 end
   end
   if self.sizeAverage ~= false and n > 0 then
      s = s / n
   end
   self.output = s
   return s
end

-- dE/dx = x - t clamped to [-1, 1], divided by the element count with sizeAverage
function SmoothL1Criterion:updateGradInput(input, target)
   local x, t, n = self:_pair(input, target)
   local _, g = self:_gradLike(input)
   local norm = self:_norm(n)
   for i = 0, n - 1 do
      local d = x[i] - t[i]
      if d < -1 then
         g[i] = -norm
      elseif d > 1 then
         g[i] = norm
      else
         g[i] = norm * d
      end
   end
   return self.gradInput
end

return SmoothL1Criterion
