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

return Abs
