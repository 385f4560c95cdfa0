-- nn.MarginRankingCriterion: input {x1, x2} (numbers, 1-element tensors or
-- batches), target y of 1 or -1: max(0, -y (x1 - x2) + margin), averaged over
-- a batch when sizeAverage.
local pointwise = require('nn.pointwise')
local schema = require('nn.schema')
local MarginRankingCriterion, parent = torch.class('nn.MarginRankingCriterion', 'nn.Criterion')

schema.declare(MarginRankingCriterion, {
   {'margin', 'number?'},
})

function MarginRankingCriterion:__init(margin)
   parent.__init(self)
   self.margin = margin or 0
   self.sizeAverage = true
   self.gradInput = {torch.Tensor(1), torch.Tensor(1)}
end

local function values(v)
   if type(v) == 'number' then
      return {[0] = v}, 1
   end
   local c = pointwise.contiguous(v)
   local p, n = c:data(), c:nElement()
   local out = {}
   for i = 0, n - 1 do out[i] = p[i] end
   return out, n
end

function MarginRankingCriterion:updateOutput(input, y)
   local a, n = values(input[1])
   local b = values(input[2])
   local t, nt = values(y)
   local s = 0
   for i = 0, n - 1 do
      local v = -t[i % nt] * (a[i] - b[i]) + self.margin
      if v > 0 then s = s + v end
   end
   if self.sizeAverage and n > 1 then
      s = s / n
   end
   self.output = s
   return s
end

return MarginRankingCriterion
