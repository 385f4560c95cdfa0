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
      error(string.format('%s the weight must be a tensor, not %s', NAME, nn.utils.describe(w)), 2)
   end
   self.weight = w:clone()
end

-- nn.MSECriterion's operands with the weight, checked to fit the input
function WeightedMSECriterion:_operands(input, target)
   local x, t, n = self:_pair(input, target)
   local nw = self.weight:nElement()
   local batched = input:dim() - 1 == self.weight:dim()
   if (batched and nw * input:size(1) ~= n) or (not batched and nw ~= n) then
      error(string.format('%s a weight of %d elements does not fit an input of %d%s', NAME, nw, n,
                          batched and string.format(' in %d rows', input:size(1)) or ''), 3)
   end
   return x, t, n, pointwise.contiguous(self.weight):data(), nw
end

return WeightedMSECriterion
