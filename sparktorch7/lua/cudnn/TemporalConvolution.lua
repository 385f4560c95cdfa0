local schema = require('nn.schema')
local TemporalConvolution, parent =
   torch.class('cudnn.TemporalConvolution', 'nn.TemporalConvolution')

-- cudnn.torch builds it as a one-plane cudnn.SpatialConvolution over the frames x
-- features image: kH/dH/padH are the temporal kernel, stride and padding (zeros on both
-- ends of the sequence), kW = inputFrameSize; weight outputFrameSize x (kH*inputFrameSize),
-- laid out as nn.TemporalConvolution's.
schema.declare(TemporalConvolution, {
   {'kW', 'posint', check = 'kW == inputFrameSize'}, {'dW', 'posint?'},
   {'kH', 'posint'}, {'dH', 'posint'}, {'padH', 'natural?'}, {'padW', 'natural?'},
   {'nInputPlane', 'posint?'}, {'nOutputPlane', 'posint?'}, {'groups', 'posint?'},
   {'weight', 'tensor', nElement = 'outputFrameSize * inputFrameSize * kH'},
   {'bias', 'tensor?', nElement = 'outputFrameSize'},
})
local ops = require 'nn.spatial_ops'
local kernels = require 'nn.kernels'

function TemporalConvolution:__init(inputFrameSize, outputFrameSize, kH, dH, padH)
   nn.Module.__init(self)
   self.inputFrameSize = inputFrameSize
   self.outputFrameSize = outputFrameSize
   self.nInputPlane = 1
   self.nOutputPlane = outputFrameSize
   self.kW = inputFrameSize
   self.kH = kH
   self.dW = 1
   self.dH = dH or 1
   self.padW = 0
   self.padH = padH or 0
   self.groups = 1
   self.weight = torch.Tensor(outputFrameSize, inputFrameSize * kH)
   self.bias = torch.Tensor(outputFrameSize)
   self.gradWeight = torch.Tensor(outputFrameSize, inputFrameSize * kH)
   self.gradBias = torch.Tensor(outputFrameSize)
   self:reset()
end

function TemporalConvolution:reset(stdv)
   nn.utils.resetUniform(self, stdv, self.kH * self.inputFrameSize)
end

-- the input as batch x 1 x frames x features (contiguous), and the number of output frames
local function image(self, input)
   local dim = ops.checkDim(self, input, 2, 3, '2D or 3D (batch mode)')
   if input:size(dim) ~= self.inputFrameSize then
      ops.fail(self, 'invalid input frame size. Got: %d, Expected: %d', input:size(dim),
               self.inputFrameSize)
   end
   local n = dim == 3 and input:size(1) or 1
   local t = input:size(dim - 1)
   local nOut = math.floor((t + 2 * (self.padH or 0) - self.kH) / self.dH) + 1
   if nOut < 1 then
      ops.fail(self, 'input sequence (%d frames, padding %d) smaller than kernel size %d', t,
               self.padH or 0, self.kH)
   end
   return input:contiguous():view(n, 1, t, self.inputFrameSize), n, nOut, dim
end

-- a frames x planes tensor seen as the planes x frames x 1 image cudnn computes
local function planes(t, n, frames)
   return t:view(n, frames, t:size(t:dim()), 1):transpose(2, 3)
end

function TemporalConvolution:updateOutput(input)
   ops.checkType(self, input, 'weight', self.weight)
   ops.checkType(self, input, 'bias', self.bias)
   local img, n, nOut, dim = image(self, input)
   local out = kernels.output(self, input, ops.withTail(input, dim - 2, {nOut, self.outputFrameSize}))
   kernels.conv2d(planes(out, n, nOut), img, self.weight, self.bias, self.inputFrameSize, self.kH, 1,
                  self.dH, 0, self.padH or 0)
   return out
end

function TemporalConvolution:updateGradInput(input, gradOutput)
   ops.checkGradOutput(self, input, gradOutput)
   local _, n, nOut = image(self, input)
   local gin = kernels.output(self, input, nil, 'gradInput')
   kernels.conv2d_grad_input(gin:view(n, 1, input:size(input:dim() - 1), self.inputFrameSize),
                             planes(gradOutput:contiguous(), n, nOut), self.weight,
                             self.inputFrameSize, self.kH, 1, self.dH, 0, self.padH or 0)
   return gin
end

function TemporalConvolution:accGradParameters(input, gradOutput, scale)
   ops.checkGradOutput(self, input, gradOutput)
   local img, n, nOut = image(self, input)
   local gw = ops.gradParam(self, 'gradWeight', self.weight)
   local gb = ops.gradParam(self, 'gradBias', self.bias)
   kernels.conv2d_acc_grad(gw, gb, img, planes(gradOutput:contiguous(), n, nOut), self.inputFrameSize,
                           self.kH, 1, self.dH, 0, self.padH or 0, 1, 1, 1, scale or 1)
end

function TemporalConvolution:__tostring__()
   return string.format('%s(%d -> %d, %d, %d, %d)', torch.type(self), self.inputFrameSize,
                        self.outputFrameSize, self.kH, self.dH, self.padH or 0)
end

-- GPU-only state that cudnn.torch kept on the module; nothing to do on the CPU.
function TemporalConvolution:fastest() return self end
function TemporalConvolution:setMode() return self end
function TemporalConvolution:resetMode() return self end
function TemporalConvolution:resetWeightDescriptors() return self end
function TemporalConvolution:clearDesc()
   self.buffer = nil
   self._output = nil
   return self
end
