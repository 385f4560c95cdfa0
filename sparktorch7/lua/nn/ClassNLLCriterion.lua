-- nn.ClassNLLCriterion: -w[t] x[t] for log-probabilities x of one sample (1D)
-- or each row of a batch (2D) and class targets t (1-based); with
-- sizeAverage the sum is divided by the total weight of the targets.
-- Targets equal to ignoreIndex count for nothing.
local pointwise = require('nn.pointwise')
local ClassNLLCriterion, parent = torch.class('nn.ClassNLLCriterion', 'nn.Criterion')

function ClassNLLCriterion:__init(weights, sizeAverage, ignoreIndex)
   parent.__init(self)
   if sizeAverage ~= nil then self.sizeAverage = sizeAverage else self.sizeAverage = true end
   self.ignoreIndex = ignoreIndex or -100
   if weights then
      if weights:dim() ~= 1 then
         error('<nn.ClassNLLCriterion> weights must be a 1D tensor', 2)
      end
      self.weights = weights
   end
   self.output_tensor = torch.zeros(1)
   self.total_weight_tensor = torch.ones(1)
end

function ClassNLLCriterion:updateOutput(input, target)
   if not torch.isTensor(input) or (input:dim() ~= 1 and input:dim() ~= 2) then
      error('<nn.ClassNLLCriterion> input must be a 1D or 2D tensor', 2)
   end
   local rows = input:dim() == 2 and input:size(1) or 1
   local nClass = input:size(input:dim())
   local targets = {}
   if type(target) == 'number' then
      targets[0] = target
   else
      local tc = pointwise.contiguous(target)
      if tc:nElement() ~= rows then
         error(string.format('<nn.ClassNLLCriterion> %d targets for %d samples', tc:nElement(), rows), 2)
      end
      local tp = tc:data()
      for r = 0, rows - 1 do targets[r] = tonumber(tp[r]) end
   end
   local x = pointwise.contiguous(input):data()
   local w = self.weights and pointwise.paramData(self.weights, nClass, 'nn.ClassNLLCriterion', 'weights')
   local total, weight = 0, 0
   for r = 0, rows - 1 do
      local k = targets[r]
      if k ~= self.ignoreIndex then
         if k < 1 or k > nClass or k ~= math.floor(k) then
            error(string.format('<nn.ClassNLLCriterion> target %s out of range [1, %d]', tostring(k), nClass), 2)
         end
         local wk = w and w[k - 1] or 1
         total = total - wk * x[r * nClass + k - 1]
         weight = weight + wk
      end
   end
   if self.sizeAverage and weight > 0 then
      total = total / weight
   end
   self.output = total
   return total
end

return ClassNLLCriterion
