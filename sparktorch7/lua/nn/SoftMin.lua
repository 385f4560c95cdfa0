-- nn.SoftMin: y_i = exp(-x_i) / sum_j exp(-x_j), over the feature dimension (see pointwise.softmaxLayout).
local pointwise = require('nn.pointwise')
local kernels = require('nn.kernels')
local schema = require('nn.schema')
local SoftMin, parent = torch.class('nn.SoftMin', 'nn.Module')

schema.parameterless(SoftMin, 'a row-wise function of the input: no fields of its own')

function SoftMin:updateOutput(input)
   if not torch.isTensor(input) then
      error('<nn.SoftMin> input must be a tensor', 2)
   end
   local frames, size, stride = pointwise.softmaxLayout(input, 'nn.SoftMin')
   local x = pointwise.contiguous(input)
   local out = kernels.output(self, input)
   pointwise.softmax(out:data(), x:data(), frames, size, stride, -1, false)
   return out
end

return SoftMin
