-- nn.MultiLabelSoftMarginCriterion([weights [, sizeAverage]]): one-versus-all logistic
-- loss for multi-label targets t in {0, 1} of the input's element count:
-- -sum w[i] (t[i] log p[i] + (1 - t[i]) log(1 - p[i])) with p = sigmoid(x), divided by
-- the element count with sizeAverage. The weights (one per class: the size of the
-- target's last dimension) repeat over the rows of a batch. Computed in the stable form
-- log(1 + exp(-|x|)) + max(x, 0) - x t.
local pointwise = require('nn.pointwise')
local schema = require('nn.schema')
local MultiLabelSoftMarginCriterion, parent = torch.class('nn.MultiLabelSoftMarginCriterion', 'nn.Criterion')

schema.declare(MultiLabelSoftMarginCriterion, {
   {'weights', 'tensor?', dim = 1}, {'sigmoid', 'module?'},
})

local NAME = '<nn.MultiLabelSoftMarginCriterion>'

function MultiLabelSoftMarginCriterion:__init(weights, sizeAverage)
   parent.__init(self)
   if sizeAverage ~= nil then self.sizeAverage = sizeAverage else self.sizeAverage = true end
   if weights ~= nil then
      if not torch.isTensor(weights) or weights:dim() ~= 1 then
         error(NAME .. ' weights must be a 1D tensor', 2)
      end
      self.weights = weights
   end
   -- Torch7's objects hold one (its backward reads the forward's probabilities): kept
   -- so that saved files have the same fields
   self.sigmoid = nn.Sigmoid()
end

-- pointers to input, target and weights, the element count and the weights' count
function MultiLabelSoftMarginCriterion:_operands(input, target)
   local x, t, n = self:_pair(input, target)
   if not self.weights then
      return x, t, nil, n, 1
   end
   local nw = self.weights:nElement()
   local classes = torch.isTensor(target) and target:size(target:dim()) or n
   if nw ~= classes then
      error(string.format('%s weights has %d elements, the target %d classes (its last dimension)',
                          NAME, nw, classes), 3)
   end
   return x, t, pointwise.contiguous(self.weights):data(), n, nw
end

function MultiLabelSoftMarginCriterion:updateOutput(input, target)
   local x, t, w, n, nw = self:_operands(input, target)
   local exp, log, abs, max = math.exp, math.log, math.abs, math.max
   local s = 0
   for i = 0, n - 1 do
      local v = x[i]
      s = s + (log(1 + exp(-abs(v))) + max(v, 0) - v * t[i]) * (w and w[i % nw] or 1)
   end
   self.output = s * self:_norm(n)
   return self.output
end

-- dE/dx = w (sigmoid(x) - t), divided by the element count with sizeAverage
function MultiLabelSoftMarginCriterion:updateGradInput(input, target)
   local x, t, w, n, nw = self:_operands(input, target)
   local _, g = self:_gradLike(input)
   local norm, exp = self:_norm(n), math.exp
   for i = 0, n - 1 do
      g[i] = (1 / (1 + exp(-x[i])) - t[i]) * norm * (w and w[i % nw] or 1)
   end
   return self.gradInput
end

return MultiLabelSoftMarginCriterion
