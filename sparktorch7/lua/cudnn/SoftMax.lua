-- cudnn.SoftMax: y = exp(x) / sum exp(x), over each sample (all of C x H x W in instance mode,
-- the default) or over the channels at each position (channel mode).
local pointwise = require('nn.pointwise')
local kernels = require('nn.kernels')
local schema = require('nn.schema')
local SoftMax, parent = torch.class('cudnn.SoftMax', 'nn.Module')

schema.declare(SoftMax, {
   {'algorithm', 'string?'}, {'mode', 'string?'},
})

SoftMax._log = false   -- cudnn.LogSoftMax sets it

function SoftMax:__init(fast)
   parent.__init(self)
   self.algorithm = fast and 'CUDNN_SOFTMAX_FAST' or 'CUDNN_SOFTMAX_ACCURATE'
   self.mode = 'CUDNN_SOFTMAX_MODE_INSTANCE'
end

function SoftMax:updateOutput(input)
   if not torch.isTensor(input) then
      error(string.format('<%s> input must be a tensor', torch.type(self)), 2)
   end
   local d = input:dim()
   local frames, size, stride
   if d == 1 then
      frames, size, stride = 1, input:size(1), 1
   elseif d == 2 then
      frames, size, stride = input:size(1), input:size(2), 1
   elseif d == 3 or d == 4 then
      local batch = d == 4 and input:size(1) or 1
      local c = input:size(d - 2)
      local hw = input:size(d - 1) * input:size(d)
      if self.mode == 'CUDNN_SOFTMAX_MODE_CHANNEL' then
         frames, size, stride = batch, c, hw
      else
         frames, size, stride = batch, c * hw, 1
      end
   else
      error(string.format('<%s> input must be 1D to 4D, not %dD', torch.type(self), d), 2)
   end
   local x = pointwise.contiguous(input)
   local out = kernels.output(self, input)
   pointwise.softmax(out:data(), x:data(), frames, size, stride, 1, self._log)
   return out
end

return SoftMax
