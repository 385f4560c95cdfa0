-- nn.Abs: y = |x|.
local pointwise = require('nn.pointwise')
local schema = require('nn.schema')
local Abs, parent = torch.class('nn.Abs', 'nn.Module')

schema.parameterless(Abs, 'a pointwise function of the input: no fields of its own')

function Abs:updateOutput(input)
   local y, x, n, back = pointwise.begin(self, input, 'nn.Abs')
   local abs = math.abs
   for i = 0, n - 1 do
      y[i] = abs(x[i])
   end
   return pointwise.finish(self, input, back)
end

-- dE/dx = dE/dy sign(x) (+1 at 0, as THNN)
function Abs:updateGradInput(input, gradOutput)
   local gi, go, n, back = pointwise.beginGrad(self, input, gradOutput, 'nn.Abs')
   local x = pointwise.contiguous(input):data()
   for i = 0, n - 1 do
      if x[i] >= 0 then gi[i] = go[i] else gi[i] = -go[i] end
   end
   return pointwise.finishGrad(self, gradOutput, back)
end

return Abs
