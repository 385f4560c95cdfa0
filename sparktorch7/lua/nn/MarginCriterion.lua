-- nn.MarginCriterion: the mean (or sum) of max(0, margin - t x), targets 1 or -1.
local schema = require('nn.schema')
local MarginCriterion, parent = torch.class('nn.MarginCriterion', 'nn.Criterion')

schema.declare(MarginCriterion, {
   {'margin', 'number?'},
})

function MarginCriterion:__init(margin)
   parent.__init(self)
   self.margin = margin or 1
   self.sizeAverage = true
end

function MarginCriterion:updateOutput(input, target)
   local x, t, n = self:_pair(input, target)
   local s = 0
   for i = 0, n - 1 do
      local v = self.margin - t[i] * x[i]
      if v > 0 then s = s + v end
   end
   if self.sizeAverage ~= false and n > 0 then
      s = s / n
   end
   self.output = s
   return s
end

-- dE/dx = -t where t x < margin (0 elsewhere), divided by the element count with sizeAverage
function MarginCriterion:updateGradInput(input, target)
   local x, t, n = self:_pair(input, target)
   local _, g = self:_gradLike(input)
   local norm = self:_norm(n)
   for i = 0, n - 1 do
      g[i] = x[i] * t[i] < self.margin and -norm * t[i] or 0
   end
   return self.gradInput
end

return MarginCriterion
