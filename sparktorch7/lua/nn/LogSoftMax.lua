-- nn.LogSoftMax: y_i = x_i - log(sum_j exp(x_j)), over the feature dimension (see pointwise.softmaxLayout).
local pointwise = require('nn.pointwise')
local kernels = require('nn.kernels')
local schema = require('nn.schema')
local LogSoftMax, parent = torch.class('nn.LogSoftMax', 'nn.Module')

schema.parameterless(LogSoftMax, 'a row-wise function of the input: no fields of its own')

function LogSoftMax:updateOutput(input)
   if not torch.isTensor(input) then
      error('<nn.LogSoftMax> input must be a tensor', 2)
   end
   local frames, size, stride = pointwise.softmaxLayout(input, 'nn.LogSoftMax')
   local x = pointwise.contiguous(input)
   local out = kernels.output(self, input)
   pointwise.softmax(out:data(), x:data(), frames, size, stride, 1, true)
   return out
end

return LogSoftMax
