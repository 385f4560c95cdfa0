-- nn.TanhShrink: y = x - tanh(x).
local pointwise = require('nn.pointwise')
local schema = require('nn.schema')
local TanhShrink, parent = torch.class('nn.TanhShrink', 'nn.Module')

schema.parameterless(TanhShrink, 'a pointwise function of the input: no fields of its own')

function TanhShrink:updateOutput(input)
   local y, x, n, back = pointwise.begin(self, input, 'nn.TanhShrink')
   local tanh = math.tanh
   for i = 0, n - 1 do
      local v = x[i]
      y[i] = v - tanh(v)
   end
   return pointwise.finish(self, input, back)
end

-- dE/dx = dE/dy (1 - (1 - tanh(x)^2)) = dE/dy tanh(x)^2
function TanhShrink:updateGradInput(input, gradOutput)
   local gi, go, n, back = pointwise.beginGrad(self, input, gradOutput, 'nn.TanhShrink')
   local x = pointwise.contiguous(input):data()
   local tanh = math.tanh
   for i = 0, n - 1 do
      local t = tanh(x[i])
      gi[i] = go[i] * t * t
   end
   return pointwise.finishGrad(self, gradOutput, back)
end

return TanhShrink
