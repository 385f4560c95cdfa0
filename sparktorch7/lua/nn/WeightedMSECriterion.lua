-- nn.WeightedMSECriterion(w): nn.MSECriterion between the input x and the weighted
-- target w * t (elementwise; as Torch7, the weight scales the target, not the squared
-- error): the mean (sum without sizeAverage) of (x - w t)^2. w has the target's size, or
-- one sample's when the input is a batch (one more dimension than w), then it repeats
-- over the rows.
local pointwise = require('nn.pointwise')
local schema = require('nn.schema')
local WeightedMSECriterion, parent = torch.class('nn.WeightedMSECriterion', 'nn.MSECriterion')

schema.declare(WeightedMSECriterion, {
   {'weight', 'tensor'}, {'buffer', 'tensor?'}, {'output_tensor', 'tensor?'},
})

local NAME = '<nn.WeightedMSECriterion>'

function WeightedMSECriterion:__init(w)
   parent.__init(self)
   if not torch.isTensor(w) then
      error(string.format('%s the weight must be a tensor, not a %s', NAME, torch.type(w)), 2)
   end
   self.weight = w:clone()
end

-- pointers to input, target and weight, the element count and the weight's (which
-- repeats over the input's elements)
function WeightedMSECriterion:_weighted(input, target)
   local x, t, n = self:_pair(input, target)
   local nw = self.weight:nElement()
   local batched = input:dim() - 1 == self.weight:dim()
   if (batched and nw * input:size(1) ~= n) or (not batched and nw ~= n) then
      error(string.format('%s a weight of %d elements does not fit an input of %d%s', NAME, nw, n,
                          batched and string.format(' in %d rows', input:size(1)) or ''), 3)
   end
   return x, t, pointwise.contiguous(self.weight):data(), n, nw
end

function WeightedMSECriterion:updateOutput(input, target)
   local x, t, w, n, nw = self:_weighted(input, target)
   local s = 0
   for i = 0, n - 1 do
      local d = x[i] - w[i % nw] * t[i]
      s = s + d * d
   end
   if self.sizeAverage ~= false and n > 0 then
      s = s / n
   end
   self.output = s
   return s
end

-- dE/dx = 2 (x - w t), divided by the element count with sizeAverage
function WeightedMSECriterion:updateGradInput(input, target)
   local x, t, w, n, nw = self:_weighted(input, target)
   local _, g = self:_gradLike(input)
   local norm = self.sizeAverage ~= false and 2 / n or 2
   for i = 0, n - 1 do
      g[i] = norm * (x[i] - w[i % nw] * t[i])
   end
   return self.gradInput
end

return WeightedMSECriterion
