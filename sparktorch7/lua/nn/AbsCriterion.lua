-- nn.AbsCriterion: the mean (or sum) of |x - t|.
local schema = require('nn.schema')
local AbsCriterion, parent = torch.class('nn.AbsCriterion', 'nn.Criterion')

schema.parameterless(AbsCriterion, "its only fields (output, gradInput, sizeAverage) are nn.Criterion's")

function AbsCriterion:__init(sizeAverage)
   parent.__init(self)
   if sizeAverage ~= nil then self.sizeAverage = sizeAverage else self.sizeAverage = true end
end

function AbsCriterion:updateOutput(input, target)
   local x, t, n = self:_pair(input, target)
   local s = 0
   for i = 0, n - 1 do
      s = s + math.abs(x[i] - t[i])
   end
   if self.sizeAverage ~= false and n > 0 then
      s = s / n
   end
   self.output = s
   return s
end

-- dE/dx = sign(x - t) (+1 at 0, as Torch7), divided by the element count with sizeAverage
function AbsCriterion:updateGradInput(input, target)
   local x, t, n = self:_pair(input, target)
   local _, g = self:_gradLike(input)
   local norm = self:_norm(n)
   for i = 0, n - 1 do
      g[i] = (x[i] - t[i]) >= 0 and norm or -norm
   end
   return self.gradInput
end

return AbsCriterion
