-- nn.L1Penalty: the identity on the forward pass (training adds an L1 penalty
-- on the activations through the gradients). self.loss holds
-- l1weight * sum |x| (divided by the element count with sizeAverage).
local pointwise = require('nn.pointwise')
local schema = require('nn.schema')
local L1Penalty, parent = torch.class('nn.L1Penalty', 'nn.Module')

schema.declare(L1Penalty, {
   {'l1weight', 'number?'}, {'sizeAverage', 'boolean?'}, {'provideOutput', 'boolean?'},
})

function L1Penalty:__init(l1weight, sizeAverage, provideOutput)
   parent.__init(self)
   self.l1weight = l1weight
   self.sizeAverage = sizeAverage or false
   if provideOutput == nil then
      self.provideOutput = true
   else
      self.provideOutput = provideOutput
   end
end

function L1Penalty:updateOutput(input)
   local x = pointwise.contiguous(input)
   local xp, n = x:data(), x:nElement()
   local s = 0
   for i = 0, n - 1 do
      s = s + math.abs(xp[i])
   end
   local m = self.l1weight or 0
   if self.sizeAverage and n > 0 then
      m = m / n
   end
   self.loss = m * s
   self.output = input
   return self.output
end

-- dE/dx = l1weight sign(x) (divided by the element count with sizeAverage), plus dE/dy
-- when provideOutput: the penalty's own gradient joins the one from above
function L1Penalty:updateGradInput(input, gradOutput)
   local n = input:nElement()
   local gi = pointwise.gradLike(self, input, gradOutput)
   local g, xp = gi:data(), pointwise.contiguous(input):data()
   local m = self.l1weight or 0
   if self.sizeAverage and n > 0 then
      m = m / n
   end
   local go
   if self.provideOutput then
      if not torch.isTensor(gradOutput) or gradOutput:nElement() ~= n then
         error(string.format('<nn.L1Penalty> gradOutput must have the %d elements of the input', n), 2)
      end
      go = pointwise.contiguous(gradOutput):data()
   end
   for i = 0, n - 1 do
      local v = xp[i]
      local s = (v > 0 and m) or (v < 0 and -m) or 0
      if go then s = s + go[i] end
      g[i] = s
   end
   return gi
end

return L1Penalty
