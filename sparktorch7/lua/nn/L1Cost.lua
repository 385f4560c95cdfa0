-- nn.L1Cost: the L1 norm of the input, sum |x| (a sparsity cost: no target, no
-- sizeAverage). Its gradient is sign(x), 0 where x = 0.
local pointwise = require('nn.pointwise')
local schema = require('nn.schema')
local L1Cost, parent = torch.class('nn.L1Cost', 'nn.Criterion')

schema.declare(L1Cost, {
   {'output_tensor', 'tensor?'},
})

function L1Cost:__init()
   parent.__init(self)
end

local function operand(input)
   if not torch.isTensor(input) then
      error(string.format('<nn.L1Cost> input must be a tensor, not %s', nn.utils.describe(input)), 3)
   end
   return pointwise.contiguous(input):data(), input:nElement()
end

function L1Cost:updateOutput(input)
   local x, n = operand(input)
   local s = 0
   for i = 0, n - 1 do
      s = s + math.abs(x[i])
   end
   self.output = s
   return s
end

function L1Cost:updateGradInput(input)
   local x, n = operand(input)
   local _, g = self:_gradLike(input)
   for i = 0, n - 1 do
      local v = x[i]
      g[i] = v > 0 and 1 or (v < 0 and -1 or 0)
   end
   return self.gradInput
end

return L1Cost
