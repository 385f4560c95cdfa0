-- nn.SoftSign: y = x / (1 + |x|).
local pointwise = require('nn.pointwise')
local schema = require('nn.schema')
local SoftSign, parent = torch.class('nn.SoftSign', 'nn.Module')

schema.parameterless(SoftSign, 'a pointwise function of the input: no fields of its own')

function SoftSign:updateOutput(input)
   local y, x, n, back = pointwise.begin(self, input, 'nn.SoftSign')
   for i = 0, n - 1 do
      local v = x[i]
      if v >= 0 then y[i] = v / (1 + v) else y[i] = v / (1 - v) end
   end
   return pointwise.finish(self, input, back)
end

-- dE/dx = dE/dy / (1 + |x|)^2
function SoftSign:updateGradInput(input, gradOutput)
   local gi, go, n, back = pointwise.beginGrad(self, input, gradOutput, 'nn.SoftSign')
   local x = pointwise.contiguous(input):data()
   local abs = math.abs
   for i = 0, n - 1 do
      local d = 1 + abs(x[i])
      gi[i] = go[i] / (d * d)
   end
   return pointwise.finishGrad(self, gradOutput, back)
end

return SoftSign
