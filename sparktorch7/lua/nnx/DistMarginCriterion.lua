-- nn.DistMarginCriterion(): nnx's multi-label margin loss. A row x of K scores (input K or
-- N x K) comes with a target row of the same size listing its 1-based label indices, ended
-- by the first 0; with m the smallest score of a label, the row's loss is the sum over the
-- other entries d of max(0, 1 - m + x[d]), and the total is divided by K (not by N) when
-- sizeAverage. The gradient is 1/K (or 1) at each non-label entry with a positive term,
-- minus their sum at the label holding m, and 0 at the other labels (nnx leaves those
-- unset).
local schema = require('nn.schema')
local DistMarginCriterion, parent = torch.class('nn.DistMarginCriterion', 'nn.Criterion')

schema.declare(DistMarginCriterion, {{'sizeAverage', 'boolean?'}})

function DistMarginCriterion:__init()
   parent.__init(self)
   self.sizeAverage = true
end

-- the rows of input and target as N x K, the label lists checked
local function rows(input, target)
   local function shape(t) return torch.isTensor(t) and table.concat(t:size():totable(), 'x') or torch.type(t) end
   if not torch.isTensor(input) or (input:dim() ~= 1 and input:dim() ~= 2) then
      error('<nn.DistMarginCriterion> input must be a vector or a matrix, got ' .. shape(input), 3)
   end
   local x = input:dim() == 1 and input:contiguous():view(1, input:size(1)) or input
   if not torch.isTensor(target) or target:nElement() ~= x:nElement()
      or (input:dim() == 2 and not target:isSameSizeAs(input)) then
      error(string.format('<nn.DistMarginCriterion> target must have the size of input (%s), got %s', shape(input),
                          shape(target)), 3)
   end
   local t = target:contiguous():view(x:size(1), x:size(2))
   if t:min() < 0 or t:max() > x:size(2) then
      error(string.format('<nn.DistMarginCriterion> target out of range: labels are 1..%d (0 ends a list), got %s..%s',
                          x:size(2), tostring(t:min()), tostring(t:max())), 3)
   end
   return x, t
end

-- per row: the label mask, the index of the smallest label score, the positive terms' mask and values
local function terms(xr, tr)
   local K = xr:size(1)
   local isLabel, minIdx, minVal = {}, nil, math.huge
   for m = 1, K do
      local idx = math.floor(tr[m])
      if idx == 0 then break end
      isLabel[idx] = true
      if xr[idx] < minVal then minVal, minIdx = xr[idx], idx end
   end
   return isLabel, minIdx, minVal
end

function DistMarginCriterion:updateOutput(input, target)
   local x, t = rows(input, target)
   local sum = 0
   for i = 1, x:size(1) do
      local xr = x[i]
      local isLabel, _, minVal = terms(xr, t[i])
      for d = 1, xr:size(1) do
         if not isLabel[d] then
            local z = 1 - minVal + xr[d]
            if z > 0 then sum = sum + z end
         end
      end
   end
   if self.sizeAverage then sum = sum / x:size(2) end
   self.output = sum
   return self.output
end

function DistMarginCriterion:updateGradInput(input, target)
   local x, t = rows(input, target)
   local g = self.sizeAverage and 1 / x:size(2) or 1
   local gi = nn.utils.newLike(x):resizeAs(x):zero()
   for i = 1, x:size(1) do
      local xr, gr = x[i], gi[i]
      local isLabel, minIdx, minVal = terms(xr, t[i])
      local acc = 0
      for d = 1, xr:size(1) do
         if not isLabel[d] and 1 - minVal + xr[d] > 0 then
            gr[d] = g
            acc = acc - g
         end
      end
      if minIdx then gr[minIdx] = acc end
   end
   self.gradInput = gi:viewAs(input)
   return self.gradInput
end

return DistMarginCriterion
