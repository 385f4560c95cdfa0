-- nn.ClassNLLCriterion: -w[t] x[t] for log-probabilities x of one sample (1D)
-- or each row of a batch (2D) and class targets t (1-based); with
-- sizeAverage the sum is divided by the total weight of the targets.
-- Targets equal to ignoreIndex count for nothing.
local pointwise = require('nn.pointwise')
local schema = require('nn.schema')
local ClassNLLCriterion, parent = torch.class('nn.ClassNLLCriterion', 'nn.Criterion')

schema.declare(ClassNLLCriterion, {
   {'weights', 'tensor?', dim = 1},
   {'ignoreIndex', 'number?'},
   {'output_tensor', 'tensor?'}, {'total_weight_tensor', 'tensor?'},
})

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

-- The checked layout of a call: rows, classes, the targets (0-based table of
-- numbers, nil where ignored), the input and weight pointers and the total
-- weight of the targets counted.
function ClassNLLCriterion:_targets(input, target)
   if not torch.isTensor(input) or (input:dim() ~= 1 and input:dim() ~= 2) then
      error('<nn.ClassNLLCriterion> input must be a 1D or 2D tensor', 3)
   end
   local rows = input:dim() == 2 and input:size(1) or 1
   local nClass = input:size(input:dim())
   local targets = {}
   if type(target) == 'number' then
      targets[0] = target
   elseif torch.isTensor(target) then
      local tc = pointwise.contiguous(target)
      if tc:nElement() ~= rows then
         error(string.format('<nn.ClassNLLCriterion> %d targets for %d samples', tc:nElement(), rows), 3)
      end
      local tp = tc:data()
      for r = 0, rows - 1 do targets[r] = tonumber(tp[r]) end
   else
      error(string.format('<nn.ClassNLLCriterion> target must be a number or a tensor, not a %s',
                          torch.type(target)), 3)
   end
   if self.weights and self.weights:nElement() ~= nClass then
      error(string.format('<nn.ClassNLLCriterion> weights has %d elements, the input %d classes',
                          self.weights:nElement(), nClass), 3)
   end
   local w = self.weights and pointwise.contiguous(self.weights):data()
   local weight = 0
   for r = 0, rows - 1 do
      local k = targets[r]
      if k == self.ignoreIndex then
         targets[r] = nil
      else
         if k < 1 or k > nClass or k ~= math.floor(k) then
            error(string.format('<nn.ClassNLLCriterion> target %s out of range [1, %d]', tostring(k), nClass), 3)
         end
         weight = weight + (w and w[k - 1] or 1)
      end
   end
   return rows, nClass, targets, pointwise.contiguous(input):data(), w, weight
end

-- Returns the loss and the total weight of the targets, as Torch7.
function ClassNLLCriterion:updateOutput(input, target)
   local rows, nClass, targets, x, w, weight = self:_targets(input, target)
   local total = 0
   for r = 0, rows - 1 do
      local k = targets[r]
      if k then
         total = total - (w and w[k - 1] or 1) * x[r * nClass + k - 1]
      end
   end
   if self.sizeAverage and weight > 0 then
      total = total / weight
   end
   self.output = total
   self.output_tensor = self.output_tensor or torch.zeros(1)
   self.total_weight_tensor = self.total_weight_tensor or torch.ones(1)
   self.output_tensor[1] = total
   self.total_weight_tensor[1] = weight
   return total, weight
end

-- dE/dx[r][t_r] = -w[t_r] (divided by the total weight with sizeAverage), 0
-- elsewhere; all 0 when the targets weigh nothing, as Torch7.
function ClassNLLCriterion:updateGradInput(input, target)
   local rows, nClass, targets, _, w, weight = self:_targets(input, target)
   local gt, g = self:_gradLike(input)
   gt:zero()
   if not (weight > 0) then
      return gt
   end
   local div = self.sizeAverage and weight or 1
   for r = 0, rows - 1 do
      local k = targets[r]
      if k then
         g[r * nClass + k - 1] = -(w and w[k - 1] or 1) / div
      end
   end
   return gt
end

return ClassNLLCriterion
