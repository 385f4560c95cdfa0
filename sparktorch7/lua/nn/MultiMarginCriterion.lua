-- nn.MultiMarginCriterion: for scores x of one sample (1D) or each row (2D)
-- and class target y: sum over i ~= y of w[y] max(0, margin - x[y] + x[i])^p,
-- divided by the number of classes, and averaged over a batch when sizeAverage.
local pointwise = require('nn.pointwise')
local schema = require('nn.schema')
local MultiMarginCriterion, parent = torch.class('nn.MultiMarginCriterion', 'nn.Criterion')

schema.declare(MultiMarginCriterion, {
   {'margin', 'number?'}, {'p', 'number'}, {'weights', 'tensor?', dim = 1},
})

function MultiMarginCriterion:__init(p, weights, margin)
   parent.__init(self)
   local pw = p or 1
   if pw ~= 1 and pw ~= 2 then
      error('<nn.MultiMarginCriterion> only p = 1 and p = 2 are supported', 2)
   end
   self.p = pw
   self.margin = margin or 1
   self.sizeAverage = true
   if weights then
      self.weights = weights
   end
end

-- The checked layout of a call: rows, classes, the 0-based targets and the
-- input and weight pointers.
function MultiMarginCriterion:_targets(input, target)
   if not torch.isTensor(input) or (input:dim() ~= 1 and input:dim() ~= 2) then
      error('<nn.MultiMarginCriterion> input must be a 1D or 2D tensor', 3)
   end
   local rows = input:dim() == 2 and input:size(1) or 1
   local nClass = input:size(input:dim())
   local targets = {}
   if type(target) == 'number' then
      targets[0] = target
   elseif torch.isTensor(target) then
      local tc = pointwise.contiguous(target)
      if tc:nElement() ~= rows then
         error(string.format('<nn.MultiMarginCriterion> %d targets for %d samples', tc:nElement(), rows), 3)
      end
      local tp = tc:data()
      for r = 0, rows - 1 do targets[r] = tonumber(tp[r]) end
   else
      error(string.format('<nn.MultiMarginCriterion> target must be a number or a tensor, not a %s',
                          torch.type(target)), 3)
   end
   for r = 0, rows - 1 do
      local k = targets[r]
      if k < 1 or k > nClass or k ~= math.floor(k) then
         error(string.format('<nn.MultiMarginCriterion> target %s out of range [1, %d]', tostring(k), nClass), 3)
      end
   end
   if self.weights and self.weights:nElement() ~= nClass then
      error(string.format('<nn.MultiMarginCriterion> weights has %d elements, the input %d classes',
                          self.weights:nElement(), nClass), 3)
   end
   local w = self.weights and pointwise.contiguous(self.weights):data()
   return rows, nClass, targets, pointwise.contiguous(input):data(), w
end

function MultiMarginCriterion:updateOutput(input, target)
   local rows, nClass, targets, x, w = self:_targets(input, target)
   local margin = self.margin or 1
   local s = 0
   for r = 0, rows - 1 do
      local k = targets[r]
      local base = r * nClass
      local xk = x[base + k - 1]
      for i = 0, nClass - 1 do
         if i ~= k - 1 then
            local z = margin - xk + x[base + i]
            if z > 0 then
               local h = self.p == 1 and z or z * z
               if w then h = h * w[k - 1] end
               s = s + h
            end
         end
      end
   end
   s = s / nClass
   if self.sizeAverage then
      s = s / rows
   end
   self.output = s
   return s
end

-- dE/dx[i] = w[y] h'(z_i) / classes (and / rows with sizeAverage) for each
-- class i ~= y with z_i = margin - x[y] + x[i] > 0, where h' is 1 (p = 1) or
-- 2 z (p = 2); dE/dx[y] is minus their sum.
function MultiMarginCriterion:updateGradInput(input, target)
   local rows, nClass, targets, x, w = self:_targets(input, target)
   local _, g = self:_gradLike(input)
   local margin = self.margin or 1
   local scale = self.sizeAverage and 1 / (rows * nClass) or 1 / nClass
   for r = 0, rows - 1 do
      local k = targets[r]
      local base = r * nClass
      local xk = x[base + k - 1]
      local gk = 0
      for i = 0, nClass - 1 do
         if i ~= k - 1 then
            local z = margin - xk + x[base + i]
            if z > 0 then
               local h = self.p == 1 and scale or 2 * scale * z
               if w then h = h * w[k - 1] end
               gk = gk - h
               g[base + i] = h
            else
               g[base + i] = 0
            end
         end
      end
      g[base + k - 1] = gk
   end
   return self.gradInput
end

return MultiMarginCriterion
