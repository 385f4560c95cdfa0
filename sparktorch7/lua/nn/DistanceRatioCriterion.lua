-- nn.DistanceRatioCriterion([sizeAverage]): the loss of a triplet embedding model
-- (https://arxiv.org/pdf/1610.00243.pdf) on input {X, Y}, the distances of similar
-- pairs (X) and of dissimilar pairs (Y): -log(exp(-X) / (exp(-X) + exp(-Y))) =
-- X + log(exp(-X) + exp(-Y)), summed over the elements and divided by X:size(1) (the
-- batch) with sizeAverage (the default). No target. Computed in the stable form
-- X - min(X, Y) + log(1 + exp(-|X - Y|)).
local pointwise = require('nn.pointwise')
local schema = require('nn.schema')
local DistanceRatioCriterion, parent = torch.class('nn.DistanceRatioCriterion', 'nn.Criterion')

schema.declare(DistanceRatioCriterion, {
   {'loss', 'tensor?'}, {'dX', 'tensor?'}, {'dY', 'tensor?'},
})

local NAME = '<nn.DistanceRatioCriterion>'

function DistanceRatioCriterion:__init(sizeAverage)
   parent.__init(self)
   if sizeAverage ~= nil then self.sizeAverage = sizeAverage else self.sizeAverage = true end
end

-- pointers to X and Y, their element count and the divisor of the sum
function DistanceRatioCriterion:_distances(input)
   if type(input) ~= 'table' or #input ~= 2 or not torch.isTensor(input[1]) or not torch.isTensor(input[2]) then
      error(string.format('%s input must be a table of two tensors {X, Y}, not %s', NAME,
                          nn.utils.describe(input)), 3)
   end
   local X, Y = input[1], input[2]
   if X:nElement() ~= Y:nElement() or X:dim() == 0 or X:size(1) ~= Y:size(1) then
      error(string.format('%s X and Y must have the same sizes, not %s and %s', NAME,
                          nn.utils.describe(X), nn.utils.describe(Y)), 3)
   end
   local div = self.sizeAverage and X:size(1) or 1
   return pointwise.contiguous(X):data(), pointwise.contiguous(Y):data(), X:nElement(), div
end

function DistanceRatioCriterion:updateOutput(input)
   local x, y, n, div = self:_distances(input)
   local s = 0
   for i = 0, n - 1 do
      local a, b = x[i], y[i]
      s = s + a - math.min(a, b) + math.log(1 + math.exp(-math.abs(a - b)))
   end
   self.output = s / div
   return self.output
end

-- dLoss/dX = 1 - exp(-X) / (exp(-X) + exp(-Y)) = 1 - sigmoid(Y - X),
-- dLoss/dY = -exp(-Y) / (exp(-X) + exp(-Y)) = -sigmoid(X - Y); both divided as the loss
function DistanceRatioCriterion:updateGradInput(input)
   local x, y, n, div = self:_distances(input)
   local _, gx = self:_gradLike(input[1], 1)
   local _, gy = self:_gradLike(input[2], 2)
   for i = 0, n - 1 do
      local q = 1 / (1 + math.exp(x[i] - y[i]))     -- exp(-X) / (exp(-X) + exp(-Y))
      gx[i] = (1 - q) / div
      gy[i] = (q - 1) / div
   end
   return self.gradInput
end

return DistanceRatioCriterion
