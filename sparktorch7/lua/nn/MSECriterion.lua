-- nn.MSECriterion: the mean (sum when sizeAverage is false) of (x - t)^2.
local schema = require('nn.schema')
local MSECriterion, parent = torch.class('nn.MSECriterion', 'nn.Criterion')

schema.parameterless(MSECriterion, "its only fields (output, gradInput, sizeAverage) are nn.Criterion's")

function MSECriterion:__init(sizeAverage)
   parent.__init(self)
   if sizeAverage ~= nil then self.sizeAverage = sizeAverage else self.sizeAverage = true end
end

-- Pointers to input and target and their element count (t of x's element count, in any
-- layout, or a number); then a weight of the target and its element count, over which it
-- repeats (none here: nn.WeightedMSECriterion gives one).
function MSECriterion:_operands(input, target)
   local x, t, n = self:_pair(input, target)
   return x, t, n, nil, 0
end

function MSECriterion:updateOutput(input, target)
   local x, t, n, w, nw = self:_operands(input, target)
   local s = 0
   if w then
      for i = 0, n - 1 do
         local d = x[i] - w[i % nw] * t[i]
         s = s + d * d
      end
   else
      for i = 0, n - 1 do
         local d = x[i] - t[i]
         s = s + d * d
      end
   end
   self.output = s * self:_norm(n)
   return self.output
end

-- dE/dx = 2 (x - t) (t weighted when there is a weight), divided by the element count
-- with sizeAverage
function MSECriterion:updateGradInput(input, target)
   local x, t, n, w, nw = self:_operands(input, target)
   local _, g = self:_gradLike(input)
   local norm = 2 * self:_norm(n)
   if w then
      for i = 0, n - 1 do g[i] = norm * (x[i] - w[i % nw] * t[i]) end
   else
      for i = 0, n - 1 do g[i] = norm * (x[i] - t[i]) end
   end
   return self.gradInput
end

return MSECriterion
