-- nn.MSECriterion: the mean (sum when sizeAverage is false) of (x - t)^2.
local schema = require('nn.schema')
local MSECriterion, parent = torch.class('nn.MSECriterion', 'nn.Criterion')

schema.parameterless(MSECriterion, "its only fields (output, gradInput, sizeAverage) are nn.Criterion's")

function MSECriterion:__init(sizeAverage)
   parent.__init(self)
   if sizeAverage ~= nil then self.sizeAverage = sizeAverage else self.sizeAverage = true end
end

function MSECriterion:updateOutput(input, target)
   local x, t, n = self:_pair(input, target)
   local s = 0
   for i = 0, n - 1 do
      local d = x[i] - t[i]
      s = s + d * d
   end
   if self.sizeAverage ~= false and n > 0 then
      s = s / n
   end
   self.output = s
   return s
end

-- dE/dx = 2 (x - t), divided by the element count with sizeAverage (t of x's element
-- count, in any layout, or a number)
function MSECriterion:updateGradInput(input, target)
   local x, t, n = self:_pair(input, target)
   local _, g = self:_gradLike(input)
   local norm = self.sizeAverage ~= false and 2 / n or 2
   for i = 0, n - 1 do
      g[i] = norm * (x[i] - t[i])
   end
   return self.gradInput
end

return MSECriterion
