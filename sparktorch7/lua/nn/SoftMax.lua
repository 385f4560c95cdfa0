-- nn.SoftMax: y_i = exp(x_i) / sum_j exp(x_j), over the feature dimension (see pointwise.softmaxLayout).
local pointwise = require('nn.pointwise')
local kernels = require('nn.kernels')
local schema = require('nn.schema')
local SoftMax, parent = torch.class('nn.SoftMax', 'nn.Module')

schema.parameterless(SoftMax, 'a row-wise function of the input: no fields of its own')

function SoftMax:updateOutput(input)
   if not torch.isTensor(input) then
      error('<nn.SoftMax> input must be a tensor', 2)
   end
   local frames, size, stride = pointwise.softmaxLayout(input, 'nn.SoftMax')
   local x = pointwise.contiguous(input)
   local out = kernels.output(self, input)
   pointwise.softmax(out:data(), x:data(), frames, size, stride, 1, false)
   return out
end

return SoftMax
