-- nn.BCECriterion: the mean (or sum) of -w (t log(x + eps) + (1 - t) log(1 - x + eps))
-- for probabilities x, targets t in [0, 1], eps = 1e-12 and optional weights
-- w (repeated over the rows of a batch).
local pointwise = require('nn.pointwise')
local schema = require('nn.schema')
local BCECriterion, parent = torch.class('nn.BCECriterion', 'nn.Criterion')

local EPS = 1e-12

schema.declare(BCECriterion, {
   {'weights', 'tensor?', dim = 1},
})

function BCECriterion:__init(weights, sizeAverage)
   parent.__init(self)
   if sizeAverage ~= nil then self.sizeAverage = sizeAverage else self.sizeAverage = true end
   if weights ~= nil then
      if weights:dim() ~= 1 then
         error('<nn.BCECriterion> weights must be a 1D tensor', 2)
      end
      self.weights = weights
   end
end

-- The weights as a pointer and their count, checked to repeat evenly over n elements.
function BCECriterion:_weights(n)
   if not self.weights then
      return nil, 0
   end
   local wc = pointwise.contiguous(self.weights)
   local nw = wc:nElement()
   if nw == 0 or n % nw ~= 0 then
      error(string.format('<nn.BCECriterion> weights of %d elements do not fit an input of %d',
                          nw, n), 3)
   end
   return wc:data(), nw
end

function BCECriterion:updateOutput(input, target)
   local x, t, n = self:_pair(input, target)
   local w, nw = self:_weights(n)
   local log, eps = math.log, EPS
   local s = 0
   for i = 0, n - 1 do
      local v, tv = x[i], t[i]
      local l = tv * log(v + eps) + (1 - tv) * log(1 - v + eps)
      if w then l = l * w[i % nw] end
      s = s - l
   end
   if self.sizeAverage and n > 0 then
      s = s / n
   end
   self.output = s
   return s
end

-- dE/dx = -w (t - x) / ((1 - x + eps) (x + eps)), divided by the element count
-- with sizeAverage (Torch7's form: eps as in the loss)
function BCECriterion:updateGradInput(input, target)
   local x, t, n = self:_pair(input, target)
   local w, nw = self:_weights(n)
   local _, g = self:_gradLike(input)
   local norm = (self.sizeAverage and n > 0) and 1 / n or 1
   local eps = EPS
   for i = 0, n - 1 do
      local v = x[i]
      local d = -norm * (t[i] - v) / ((1 - v + eps) * (v + eps))
      if w then d = d * w[i % nw] end
      g[i] = d
   end
   return self.gradInput
end

return BCECriterion
