-- nn.L1HingeEmbeddingCriterion([margin]): input {x1, x2}, label y (1 or -1): the L1
-- distance d = ||x1 - x2||_1 when y = 1, max(0, margin - d) when y = -1 (margin 1 by
-- default). The distance runs over all elements (no batch mode, as Torch7).
local pointwise = require('nn.pointwise')
local schema = require('nn.schema')
local L1HingeEmbeddingCriterion, parent = torch.class('nn.L1HingeEmbeddingCriterion', 'nn.Criterion')

schema.declare(L1HingeEmbeddingCriterion, {
   {'margin', 'number'},
})

local NAME = '<nn.L1HingeEmbeddingCriterion>'

function L1HingeEmbeddingCriterion:__init(margin)
   parent.__init(self)
   self.margin = margin or 1
   self.gradInput = {torch.Tensor(), torch.Tensor()}
end

-- pointers to x1 and x2, their element count and the label as a number
local function operands(input, y)
   if type(input) ~= 'table' or not torch.isTensor(input[1]) or not torch.isTensor(input[2]) then
      error(string.format('%s input must be a table of two tensors {x1, x2}, not %s', NAME,
                          nn.utils.describe(input)), 3)
   end
   local a, b = input[1], input[2]
   if a:nElement() ~= b:nElement() then
      error(string.format('%s x1 has %d elements, x2 %d', NAME, a:nElement(), b:nElement()), 3)
   end
   if torch.isTensor(y) and y:nElement() == 1 then
      y = y:view(1)[1]
   end
   if y ~= 1 and y ~= -1 then
      error(string.format('%s the label must be 1 or -1, not %s', NAME, tostring(y)), 3)
   end
   return pointwise.contiguous(a):data(), pointwise.contiguous(b):data(), a:nElement(), y
end

local function l1(p, q, n)
   local s = 0
   for i = 0, n - 1 do
      s = s + math.abs(p[i] - q[i])
   end
   return s
end

function L1HingeEmbeddingCriterion:updateOutput(input, y)
   local p, q, n, label = operands(input, y)
   local d = l1(p, q, n)
   if label == -1 then
      d = math.max(0, self.margin - d)
   end
   self.output = d
   return d
end

-- dE/dx1 = sign(x1 - x2) for y = 1; for y = -1 its opposite while d <= margin, 0
-- beyond; dE/dx2 = -dE/dx1. Where x1 = x2 the sign is drawn at random (+1 or -1 with
-- torch.random, as Torch7).
function L1HingeEmbeddingCriterion:updateGradInput(input, y)
   local p, q, n, label = operands(input, y)
   local _, g1 = self:_gradLike(input[1], 1)
   local _, g2 = self:_gradLike(input[2], 2)
   local scale = 1
   if label == -1 then
      scale = l1(p, q, n) > self.margin and 0 or -1
   end
   for i = 0, n - 1 do
      local d = p[i] - q[i]
      local s
      if d > 0 then s = 1 elseif d < 0 then s = -1 else s = 2 * torch.random(2) - 3 end
      g1[i] = scale * s
      g2[i] = -scale * s
   end
   return self.gradInput
end

return L1HingeEmbeddingCriterion
