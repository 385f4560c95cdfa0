local schema = require('nn.schema')
local SpatialConvolutionLocal, parent = torch.class('nn.SpatialConvolutionLocal', 'nn.Module')

schema.declare(SpatialConvolutionLocal, {
   {'nInputPlane', 'posint'}, {'nOutputPlane', 'posint'},
   {'iW', 'posint'}, {'iH', 'posint'}, {'kW', 'posint'}, {'kH', 'posint'},
   {'dW', 'posint'}, {'dH', 'posint'}, {'padW', 'natural?'}, {'padH', 'natural?'},
   {'oW', 'posint', check = 'oW == (iW + 2 * padW - kW) / dW + 1 - ((iW + 2 * padW - kW) % dW) / dW'},
   {'oH', 'posint', check = 'oH == (iH + 2 * padH - kH) / dH + 1 - ((iH + 2 * padH - kH) % dH) / dH'},
   {'weight', 'tensor', nElement = 'oH * oW * nOutputPlane * nInputPlane * kH * kW'},
   {'bias', 'tensor', nElement = 'nOutputPlane * oH * oW'},
   {'gradWeight', 'tensor?'}, {'gradBias', 'tensor?'},
})
local ops = require 'nn.spatial_ops'
local kernels = require 'nn.kernels'

-- A convolution whose kernel is not shared: every output position (h, w) has its own
-- nOutputPlane x nInputPlane x kH x kW weights (weight oH x oW x nOutputPlane x
-- nInputPlane x kH x kW) and its own bias (nOutputPlane x oH x oW). The input size is
-- fixed when the module is built.
function SpatialConvolutionLocal:__init(nInputPlane, nOutputPlane, iW, iH, kW, kH, dW, dH, padW, padH)
   parent.__init(self)
   self.nInputPlane = nInputPlane
   self.nOutputPlane = nOutputPlane
   self.kW = kW
   self.kH = kH
   self.iW = iW
   self.iH = iH
   self.dW = dW or 1
   self.dH = dH or 1
   self.padW = padW or 0
   self.padH = padH or self.padW
   self.oW = math.floor((self.padW * 2 + iW - kW) / self.dW) + 1
   self.oH = math.floor((self.padH * 2 + iH - kH) / self.dH) + 1
   if self.oW < 1 or self.oH < 1 then
      error(string.format('<nn.SpatialConvolutionLocal> illegal configuration: output width or height '
                          .. 'less than 1 (input %dx%d, kernel %dx%d, padding %d,%d)', iW, iH, kW, kH,
                          self.padW, self.padH), 2)
   end
   self.weight = torch.Tensor(self.oH, self.oW, nOutputPlane, nInputPlane, kH, kW)
   self.bias = torch.Tensor(nOutputPlane, self.oH, self.oW)
   self.gradWeight = torch.Tensor():resizeAs(self.weight)
   self.gradBias = torch.Tensor():resizeAs(self.bias)
   self:reset()
end

function SpatialConvolutionLocal:reset(stdv)
   nn.utils.resetUniform(self, stdv, self.kW * self.kH * self.nInputPlane)
end

-- the input must be the nInputPlane x iH x iW image the module was built for
local function checkInput(self, input)
   local dim = ops.checkDim(self, input, 3, 4, '3D or 4D (batch mode)')
   local c, h, w = input:size(dim - 2), input:size(dim - 1), input:size(dim)
   if c ~= self.nInputPlane or h ~= self.iH or w ~= self.iW then
      error(string.format('<%s> given input size: (%s) inconsistent with expected input size: '
                          .. '(%s%dx%dx%d)', torch.type(self), ops.sizestr(input),
                          dim == 4 and 'batchsize x ' or '', self.nInputPlane, self.iH, self.iW), 3)
   end
   return dim
end

function SpatialConvolutionLocal:updateOutput(input)
   self.padW = self.padW or 0
   self.padH = self.padH or 0
   local dim = checkInput(self, input)
   ops.checkType(self, input, 'weight', self.weight)
   ops.checkType(self, input, 'bias', self.bias)
   local out = kernels.output(self, input, ops.withTail(input, dim - 3, {self.nOutputPlane, self.oH, self.oW}))
   kernels.conv_local2d(out, input, self.weight, self.bias, self.kW, self.kH, self.dW, self.dH,
                        self.padW, self.padH)
   return out
end

function SpatialConvolutionLocal:updateGradInput(input, gradOutput)
   checkInput(self, input)
   ops.checkGradOutput(self, input, gradOutput)
   local gin = kernels.output(self, input, nil, 'gradInput')
   kernels.conv_local2d_grad_input(gin, gradOutput, self.weight, self.kW, self.kH, self.dW, self.dH,
                                   self.padW, self.padH)
   return gin
end

function SpatialConvolutionLocal:accGradParameters(input, gradOutput, scale)
   checkInput(self, input)
   ops.checkGradOutput(self, input, gradOutput)
   local gw = ops.gradParam(self, 'gradWeight', self.weight)
   local gb = ops.gradParam(self, 'gradBias', self.bias)
   kernels.conv_local2d_acc_grad(gw, gb, input, gradOutput, self.kW, self.kH, self.dW, self.dH,
                                 self.padW, self.padH, scale or 1)
end

function SpatialConvolutionLocal:__tostring__()
   local s = string.format('%s(%d -> %d, %dx%d, %dx%d', torch.type(self), self.nInputPlane,
                           self.nOutputPlane, self.iW, self.iH, self.kW, self.kH)
   if self.dW ~= 1 or self.dH ~= 1 or self.padW ~= 0 or self.padH ~= 0 then
      s = s .. string.format(', %d,%d', self.dW, self.dH)
   end
   if self.padW ~= 0 or self.padH ~= 0 then
      s = s .. string.format(', %d,%d', self.padW, self.padH)
   end
   return s .. ')'
end
