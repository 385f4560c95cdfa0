-- nn.MultiMarginCriterion: for scores x of one sample (1D) or each row (2D)
-- and class target y: sum over i ~= y of w[y] max(0, margin - x[y] + x[i])^p,
-- divided by the number of classes, and averaged over a batch when sizeAverage.
local pointwise = require('nn.pointwise')
local MultiMarginCriterion, parent = torch.class('nn.MultiMarginCriterion', 'nn.Criterion')

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

function MultiMarginCriterion:updateOutput(input, target)
   local rows = input:dim() == 2 and input:size(1) or 1
   local nClass = input:size(input:dim())
   local x = pointwise.contiguous(input):data()
   local targets = {}
   if type(target) == 'number' then
      targets[0] = target
   else
      local tp = pointwise.contiguous(target):data()
      for r = 0, rows - 1 do targets[r] = tonumber(tp[r]) end
   end
   local w = self.weights and pointwise.paramData(self.weights, nClass, 'nn.MultiMarginCriterion', 'weights')
   local s = 0
   for r = 0, rows - 1 do
      local k = targets[r]
      if k < 1 or k > nClass then
         error(string.format('<nn.MultiMarginCriterion> target %s out of range [1, %d]', tostring(k), nClass), 2)
      end
      local base = r * nClass
      local xk = x[base + k - 1]
      for i = 0, nClass - 1 do
         if i ~= k - 1 then
            local z = self.margin - xk + x[base + i]
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

return MultiMarginCriterion
