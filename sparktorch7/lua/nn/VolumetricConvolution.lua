local schema = require('nn.schema')
local VolumetricConvolution, parent = torch.class('nn.VolumetricConvolution', 'nn.Module')

schema.declare(VolumetricConvolution, {
   {'nInputPlane', 'posint'}, {'nOutputPlane', 'posint'},
   {'kT', 'posint'}, {'kW', 'posint'}, {'kH', 'posint'},
   {'dT', 'posint'}, {'dW', 'posint'}, {'dH', 'posint'},
   {'padT', 'natural?'}, {'padW', 'natural?'}, {'padH', 'natural?'},
   {'groups', 'posint?', default = 1, check = 'nInputPlane % groups == 0'},
   {'weight', 'tensor', nElement = 'nOutputPlane * (nInputPlane / groups) * kT * kH * kW'},
   {'bias', 'tensor?', nElement = 'nOutputPlane'},
   {'gradWeight', 'tensor?'}, {'gradBias', 'tensor?'},
})
local ops = require 'nn.spatial_ops'
local kernels = require 'nn.kernels'

-- 3-D convolution of (C, T, H, W) volumes or batches of them; weight
-- nOutputPlane x nInputPlane x kT x kH x kW.
function VolumetricConvolution:__init(nInputPlane, nOutputPlane, kT, kW, kH, dT, dW, dH,
                                      padT, padW, padH)
   parent.__init(self)
   self.nInputPlane = nInputPlane
   self.nOutputPlane = nOutputPlane
   self.kT = kT
   self.kW = kW
   self.kH = kH
   self.dT = dT or 1
   self.dW = dW or 1
   self.dH = dH or 1
   self.padT = padT or 0
   self.padW = padW or self.padT
   self.padH = padH or self.padW
   self.weight = torch.Tensor(nOutputPlane, nInputPlane, kT, kH, kW)
   self.bias = torch.Tensor(nOutputPlane)
   self.gradWeight = torch.Tensor(nOutputPlane, nInputPlane, kT, kH, kW)
   self.gradBias = torch.Tensor(nOutputPlane)
   self:reset()
end

function VolumetricConvolution:noBias()
   self.bias = nil
   self.gradBias = nil
   return self
end

function VolumetricConvolution:reset(stdv)
   nn.utils.resetUniform(self, stdv, self.kT * self.kW * self.kH * self.nInputPlane / (self.groups or 1))
end

function VolumetricConvolution:backCompatibility()
   self.padT = self.padT or 0
   self.padW = self.padW or 0
   self.padH = self.padH or 0
end

function VolumetricConvolution:_dilation()
   return 1, 1, 1
end

function VolumetricConvolution:updateOutput(input)
   self:backCompatibility()
   local dim = ops.checkDim(self, input, 4, 5, '4D or 5D (batch mode)')
   ops.checkPlanes(self, input, dim - 3, self.nInputPlane)
   ops.checkType(self, input, 'weight', self.weight)
   ops.checkType(self, input, 'bias', self.bias)
   local g = self.groups or 1
   if self.weight:nElement() ~= self.nOutputPlane * (self.nInputPlane / g) * self.kT * self.kH * self.kW then
      ops.fail(self, 'weight has %d elements, expected nOutputPlane x nInputPlane x kT x kH x kW',
               self.weight:nElement())
   end
   local dilT, dilW, dilH = self:_dilation()
   local iT, iH, iW = input:size(dim - 2), input:size(dim - 1), input:size(dim)
   local oT = math.floor((iT + 2 * self.padT - (dilT * (self.kT - 1) + 1)) / self.dT) + 1
   local oH = math.floor((iH + 2 * self.padH - (dilH * (self.kH - 1) + 1)) / self.dH) + 1
   local oW = math.floor((iW + 2 * self.padW - (dilW * (self.kW - 1) + 1)) / self.dW) + 1
   if oT < 1 or oH < 1 or oW < 1 then
      ops.fail(self, 'input volume (%dx%dx%d) is too small for the kernel: calculated output '
               .. 'size %dx%dx%d', iT, iH, iW, oT, oH, oW)
   end
   local out = kernels.output(self, input, ops.withTail(input, dim - 4, {self.nOutputPlane, oT, oH, oW}))
   kernels.conv3d(out, input, self.weight, self.bias, self.kT, self.kW, self.kH, self.dT,
                  self.dW, self.dH, self.padT, self.padW, self.padH, g, dilT, dilW, dilH)
   return out
end

function VolumetricConvolution:updateGradInput(input, gradOutput)
   ops.checkGradOutput(self, input, gradOutput)
   local dilT, dilW, dilH = self:_dilation()
   local gin = kernels.output(self, input, nil, 'gradInput')
   kernels.conv3d_grad_input(gin, gradOutput, self.weight, self.kT, self.kW, self.kH,
                             self.dT, self.dW, self.dH, self.padT, self.padW, self.padH, self.groups or 1,
                             dilT, dilW, dilH)
   return gin
end

function VolumetricConvolution:accGradParameters(input, gradOutput, scale)
   ops.checkGradOutput(self, input, gradOutput)
   local dilT, dilW, dilH = self:_dilation()
   local gw = ops.gradParam(self, 'gradWeight', self.weight)
   local gb = ops.gradParam(self, 'gradBias', self.bias)
   kernels.conv3d_acc_grad(gw, gb, input, gradOutput, self.kT, self.kW, self.kH, self.dT,
                           self.dW, self.dH, self.padT, self.padW, self.padH, self.groups or 1, dilT, dilW,
                           dilH, scale or 1)
end

function VolumetricConvolution:__tostring__()
   return string.format('%s(%d -> %d, %dx%dx%d, %d,%d,%d, %d,%d,%d)', torch.type(self),
                        self.nInputPlane, self.nOutputPlane, self.kT, self.kW, self.kH, self.dT,
                        self.dW, self.dH, self.padT or 0, self.padW or 0, self.padH or 0)
end
