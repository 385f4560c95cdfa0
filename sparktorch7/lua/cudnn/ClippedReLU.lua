-- cudnn.ClippedReLU: y = min(max(0, x), ceiling).
local pointwise = require('nn.pointwise')
local schema = require('nn.schema')
local ClippedReLU, parent = torch.class('cudnn.ClippedReLU', 'nn.Module')

schema.declare(ClippedReLU, {
   {'ceiling', 'number'}, {'inplace', 'boolean?'},
})

function ClippedReLU:__init(ceiling, inplace)
   parent.__init(self)
   if type(ceiling) ~= 'number' then
      error('<cudnn.ClippedReLU> usage: cudnn.ClippedReLU(ceiling[, inplace])', 2)
   end
   self.ceiling = ceiling
   self.inplace = inplace or false
end

function ClippedReLU:updateOutput(input)
   local y, x, n, back = pointwise.begin(self, input, 'cudnn.ClippedReLU')
   local c = self.ceiling
   for i = 0, n - 1 do
      local v = x[i]
      if v < 0 then v = 0 elseif v > c then v = c end
      y[i] = v
   end
   return pointwise.finish(self, input, back)
end

-- dE/dx = dE/dy strictly inside (0, ceiling), else 0 (in place: over gradOutput)
function ClippedReLU:updateGradInput(input, gradOutput)
   local gi, go, n, back = pointwise.beginGrad(self, input, gradOutput, 'cudnn.ClippedReLU')
   local x = pointwise.contiguous(input):data()
   local c = self.ceiling
   for i = 0, n - 1 do
      local v = x[i]
      if v > 0 and v < c then gi[i] = go[i] else gi[i] = 0 end
   end
   return pointwise.finishGrad(self, gradOutput, back)
end

return ClippedReLU
