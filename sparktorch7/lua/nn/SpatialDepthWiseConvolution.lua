local schema = require('nn.schema')
local SpatialDepthWiseConvolution, parent = torch.class('nn.SpatialDepthWiseConvolution', 'nn.Module')

schema.declare(SpatialDepthWiseConvolution, {
   {'nInputPlane', 'posint'}, {'nOutputPlane', 'posint'},
   {'kW', 'posint'}, {'kH', 'posint'},
   {'dW', 'posint'}, {'dH', 'posint'},
   {'padW', 'natural?'}, {'padH', 'natural?'}, {'padding', 'natural?'},
   {'weight', 'tensor', nElement = 'nOutputPlane * nInputPlane * kH * kW'},
   {'bias', 'tensor?', nElement = 'nOutputPlane * nInputPlane'},
   {'gradWeight', 'tensor?'}, {'gradBias', 'tensor?'},
})
local ops = require 'nn.spatial_ops'
local kernels = require 'nn.kernels'

-- Each input plane c convolved on its own with nOutputPlane kernels weight[o][c]
-- (weight nOutputPlane x nInputPlane*kH*kW, or nOutputPlane x nInputPlane x kH x kW as
-- THNN reshapes it), plus bias[o][c]: nInputPlane*nOutputPlane output planes, those of
-- input plane c first (plane (c-1)*nOutputPlane + o).
function SpatialDepthWiseConvolution:__init(nInputPlane, nOutputPlane, kW, kH, dW, dH, padW, padH)
   parent.__init(self)
   self.nInputPlane = nInputPlane
   self.nOutputPlane = nOutputPlane
   self.kW = kW
   self.kH = kH
   self.dW = dW or 1
   self.dH = dH or 1
   self.padW = padW or 0
   self.padH = padH or self.padW
   self.weight = torch.Tensor(nOutputPlane, nInputPlane * kH * kW)
   self.bias = torch.Tensor(nOutputPlane, nInputPlane)
   self.gradWeight = torch.Tensor(nOutputPlane, nInputPlane * kH * kW)
   self.gradBias = torch.Tensor(nOutputPlane, nInputPlane)
   self:reset()
end

SpatialDepthWiseConvolution.noBias = nn.SpatialConvolution.noBias

function SpatialDepthWiseConvolution:reset(stdv)
   nn.utils.resetUniform(self, stdv, self.kW * self.kH * self.nInputPlane)
end

function SpatialDepthWiseConvolution:backCompatibility()
   if self.padding then
      self.padW = self.padding
      self.padH = self.padding
      self.padding = nil
   end
   self.padW = self.padW or 0
   self.padH = self.padH or 0
end

function SpatialDepthWiseConvolution:updateOutput(input)
   self:backCompatibility()
   local dim = ops.checkDim(self, input, 3, 4, '3D or 4D (batch mode)')
   ops.checkPlanes(self, input, dim - 2, self.nInputPlane)
   ops.checkType(self, input, 'weight', self.weight)
   ops.checkType(self, input, 'bias', self.bias)
   local iH, iW = input:size(dim - 1), input:size(dim)
   local oH = math.floor((iH + 2 * self.padH - self.kH) / self.dH) + 1
   local oW = math.floor((iW + 2 * self.padW - self.kW) / self.dW) + 1
   if oH < 1 or oW < 1 then
      ops.fail(self, 'given input size: (%d x %d x %d), calculated output size: (%d x %d x %d): '
               .. 'output size is too small', self.nInputPlane, iH, iW,
               self.nOutputPlane * self.nInputPlane, oH, oW)
   end
   local sizes = ops.withTail(input, dim - 3, {self.nInputPlane * self.nOutputPlane, oH, oW})
   local out = kernels.output(self, input, sizes)
   kernels.depthwise_conv2d(out, input, self.weight, self.bias, self.kW, self.kH, self.dW, self.dH,
                            self.padW, self.padH)
   return out
end

function SpatialDepthWiseConvolution:updateGradInput(input, gradOutput)
   ops.checkGradOutput(self, input, gradOutput)
   local gin = kernels.output(self, input, nil, 'gradInput')
   kernels.depthwise_conv2d_grad_input(gin, gradOutput, self.weight, self.kW, self.kH, self.dW,
                                       self.dH, self.padW, self.padH)
   return gin
end

function SpatialDepthWiseConvolution:accGradParameters(input, gradOutput, scale)
   ops.checkGradOutput(self, input, gradOutput)
   local gw = ops.gradParam(self, 'gradWeight', self.weight)
   local gb = ops.gradParam(self, 'gradBias', self.bias)
   kernels.depthwise_conv2d_acc_grad(gw, gb, input, gradOutput, self.kW, self.kH, self.dW, self.dH,
                                     self.padW, self.padH, scale or 1)
end

-- Torch7 prints it as nn.SpatialConvolution
SpatialDepthWiseConvolution.__tostring__ = nn.SpatialConvolution.__tostring__
