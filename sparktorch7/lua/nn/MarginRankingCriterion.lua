-- nn.MarginRankingCriterion: input {x1, x2} (numbers, 1-element tensors or
-- batches), target y of 1 or -1: max(0, -y (x1 - x2) + margin) (margin 1 by
-- default, as Torch7), averaged over a batch when sizeAverage.
local pointwise = require('nn.pointwise')
local schema = require('nn.schema')
local MarginRankingCriterion, parent = torch.class('nn.MarginRankingCriterion', 'nn.Criterion')

schema.declare(MarginRankingCriterion, {
   {'margin', 'number?'},
})

function MarginRankingCriterion:__init(margin)
   parent.__init(self)
   self.margin = margin or 1
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

function MarginRankingCriterion:_check(input, y)
   if type(input) ~= 'table' or input[1] == nil or input[2] == nil then
      error('<nn.MarginRankingCriterion> input must be a table {x1, x2}', 3)
   end
   local a, n = values(input[1])
   local b, nb = values(input[2])
   local t, nt = values(y)
   if nb ~= n or (nt ~= 1 and nt ~= n) then
      error(string.format('<nn.MarginRankingCriterion> x1 has %d elements, x2 %d and the target %d',
                          n, nb, nt), 3)
   end
   return a, b, t, n, nt
end

function MarginRankingCriterion:updateOutput(input, y)
   local a, b, t, n, nt = self:_check(input, y)
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

-- dE/dx1 = -y, dE/dx2 = y where -y (x1 - x2) + margin >= 0 (0 elsewhere),
-- divided by the batch size with sizeAverage; a number input gets a
-- one-element gradient.
function MarginRankingCriterion:updateGradInput(input, y)
   local a, b, t, n, nt = self:_check(input, y)
   local grads = {}
   for k = 1, 2 do
      local x = input[k]
      if type(x) == 'number' then x = torch.Tensor(1) end
      local _, g = self:_gradLike(x, k)
      grads[k] = g
   end
   local g1, g2 = grads[1], grads[2]
   local avg = (self.sizeAverage and n > 1) and n or 1
   for i = 0, n - 1 do
      local yi = t[i % nt]
      if -yi * (a[i] - b[i]) + self.margin >= 0 then
         g1[i], g2[i] = -yi / avg, yi / avg
      else
         g1[i], g2[i] = 0, 0
      end
   end
   return self.gradInput
end

return MarginRankingCriterion
