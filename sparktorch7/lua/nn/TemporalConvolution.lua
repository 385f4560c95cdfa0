local schema = require('nn.schema')
local TemporalConvolution, parent = torch.class('nn.TemporalConvolution', 'nn.Module')

schema.declare(TemporalConvolution, {
   {'inputFrameSize', 'posint'}, {'outputFrameSize', 'posint'},
   {'kW', 'posint'}, {'dW', 'posint'},
   {'weight', 'tensor', nElement = 'outputFrameSize * inputFrameSize * kW'},
   {'bias', 'tensor?', nElement = 'outputFrameSize'},
   {'gradWeight', 'tensor?'}, {'gradBias', 'tensor?'},
})
local ops = require 'nn.spatial_ops'
local kernels = require 'nn.kernels'

-- 1-D convolution over a sequence of frames: input nInputFrame x inputFrameSize (or a
-- batch of those); weight outputFrameSize x (kW*inputFrameSize).
function TemporalConvolution:__init(inputFrameSize, outputFrameSize, kW, dW)
   parent.__init(self)
   dW = dW or 1
   self.inputFrameSize = inputFrameSize
   self.outputFrameSize = outputFrameSize
   self.kW = kW
   self.dW = dW
   self.weight = torch.Tensor(outputFrameSize, inputFrameSize * kW)
   self.bias = torch.Tensor(outputFrameSize)
   self.gradWeight = torch.Tensor(outputFrameSize, inputFrameSize * kW)
   self.gradBias = torch.Tensor(outputFrameSize)
   self:reset()
end

function TemporalConvolution:reset(stdv)
   if stdv then
      stdv = stdv * math.sqrt(3)
   else
      stdv = 1 / math.sqrt(self.kW * self.inputFrameSize)
   end
   self.weight:uniform(-stdv, stdv)
   self.bias:uniform(-stdv, stdv)
end

function TemporalConvolution:updateOutput(input)
   local dim = ops.checkDim(self, input, 2, 3, '2D or 3D (batch mode)')
   if input:size(dim) ~= self.inputFrameSize then
      ops.fail(self, 'invalid input frame size. Got: %d, Expected: %d', input:size(dim),
               self.inputFrameSize)
   end
   local nIn = input:size(dim - 1)
   if nIn < self.kW then
      ops.fail(self, 'input sequence smaller than kernel size. Got: %d, Expected: %d', nIn, self.kW)
   end
   ops.checkType(self, input, 'weight', self.weight)
   local nOut = math.floor((nIn - self.kW) / self.dW) + 1
   local out = kernels.output(self, input, ops.withTail(input, dim - 2, {nOut, self.outputFrameSize}))
   kernels.temporal_conv(out, input, self.weight, self.bias, self.kW, self.dW)
   return out
end

function TemporalConvolution:updateGradInput(input, gradOutput)
   ops.checkGradOutput(self, input, gradOutput)
   local gin = kernels.output(self, input, nil, 'gradInput')
   kernels.temporal_conv_grad_input(gin, gradOutput, self.weight, self.kW, self.dW)
   return gin
end

function TemporalConvolution:accGradParameters(input, gradOutput, scale)
   ops.checkGradOutput(self, input, gradOutput)
   local gw = ops.gradParam(self, 'gradWeight', self.weight)
   local gb = ops.gradParam(self, 'gradBias', self.bias)
   kernels.temporal_conv_acc_grad(gw, gb, input, gradOutput, self.kW, self.dW, scale or 1)
end
