local schema = require('nn.schema')
local SpatialFullConvolution, parent = torch.class('nn.SpatialFullConvolution', 'nn.Module')

schema.declare(SpatialFullConvolution, {
   {'nInputPlane', 'posint'}, {'nOutputPlane', 'posint'},
   {'kW', 'posint'}, {'kH', 'posint'},
   {'dW', 'posint'}, {'dH', 'posint'},
   {'padW', 'natural?'}, {'padH', 'natural?'},
   {'adjW', 'natural?'}, {'adjH', 'natural?'},
   {'weight', 'tensor', nElement = 'nInputPlane * nOutputPlane * kH * kW'},
   {'bias', 'tensor?', nElement = 'nOutputPlane'},
   {'gradWeight', 'tensor?'}, {'gradBias', 'tensor?'},
})
local ops = require 'nn.spatial_ops'
local kernels = require 'nn.kernels'

-- Transposed convolution ("deconvolution"): weight nInputPlane x nOutputPlane x kH x kW,
-- output size (in - 1) * stride - 2 * pad + kernel + adj.
function SpatialFullConvolution:__init(nInputPlane, nOutputPlane, kW, kH, dW, dH, padW, padH,
                                       adjW, adjH)
   parent.__init(self)
   self.nInputPlane = nInputPlane
   self.nOutputPlane = nOutputPlane
   self.kW = kW
   self.kH = kH
   self.dW = dW or 1
   self.dH = dH or 1
   self.padW = padW or 0
   self.padH = padH or 0
   self.adjW = adjW or 0
   self.adjH = adjH or 0
   if self.adjW > self.dW - 1 or self.adjH > self.dH - 1 then
      error('<nn.SpatialFullConvolution> adjW and adjH must be smaller than dW and dH', 2)
   end
   self.weight = torch.Tensor(nInputPlane, nOutputPlane, kH, kW)
   self.gradWeight = torch.Tensor(nInputPlane, nOutputPlane, kH, kW)
   self.bias = torch.Tensor(nOutputPlane)
   self.gradBias = torch.Tensor(nOutputPlane)
   self:reset()
end

function SpatialFullConvolution:noBias()
   self.bias = nil
   self.gradBias = nil
   return self
end

function SpatialFullConvolution:reset(stdv)
   nn.utils.resetUniform(self, stdv, self.kW * self.kH * self.nInputPlane)
end

function SpatialFullConvolution:backCompatibility()
   self.adjW = self.adjW or 0
   self.adjH = self.adjH or 0
   self.padW = self.padW or 0
   self.padH = self.padH or 0
end

local function adjFor(target, k, pad, d)
   return (target + 2 * pad - k) % d
end

function SpatialFullConvolution:_dilation()
   return 1, 1
end

-- input may be {image, targetSizeTensor}: adj is then chosen so that the output has
-- the target's last two sizes.
function SpatialFullConvolution:updateOutput(input)
   self:backCompatibility()
   local adjW, adjH = self.adjW, self.adjH
   if type(input) == 'table' and not torch.isTensor(input) then
      local target = input[2]
      input = input[1]
      local td = target:dim()
      adjW = adjFor(target:size(td), self.kW, self.padW, self.dW)
      adjH = adjFor(target:size(td - 1), self.kH, self.padH, self.dH)
   end
   local dim = ops.checkDim(self, input, 3, 4, '3D or 4D (batch mode)')
   ops.checkPlanes(self, input, dim - 2, self.nInputPlane)
   ops.checkType(self, input, 'weight', self.weight)
   ops.checkType(self, input, 'bias', self.bias)
   local dilW, dilH = self:_dilation()
   local iH, iW = input:size(dim - 1), input:size(dim)
   local oH = (iH - 1) * self.dH - 2 * self.padH + dilH * (self.kH - 1) + 1 + adjH
   local oW = (iW - 1) * self.dW - 2 * self.padW + dilW * (self.kW - 1) + 1 + adjW
   if oH < 1 or oW < 1 then
      ops.fail(self, 'input image (%dx%d) too small: calculated output size %dx%d', iH, iW, oH, oW)
   end
   local out = kernels.output(self, input, ops.withTail(input, dim - 3, {self.nOutputPlane, oH, oW}))
   kernels.full_conv2d(out, input, self.weight, self.bias, self.kW, self.kH, self.dW, self.dH,
                       self.padW, self.padH, dilW, dilH)
   return out
end

-- With a table input {image, target} the target only sets the size: its gradient
-- is zero.
function SpatialFullConvolution:updateGradInput(input, gradOutput)
   local image = input
   if type(input) == 'table' and not torch.isTensor(input) then image = input[1] end
   ops.checkGradOutput(self, image, gradOutput)
   local dilW, dilH = self:_dilation()
   local prev = self.gradInput
   if not torch.isTensor(prev) then self.gradInput = torch.isTensor(prev[1]) and prev[1] or image.new() end
   local gin = kernels.output(self, image, nil, 'gradInput')
   kernels.full_conv2d_grad_input(gin, gradOutput, self.weight, self.kW, self.kH, self.dW, self.dH, self.padW, self.padH, dilW, dilH)
   if image ~= input then
      self.gradInput = {gin, ops.zeroGradOfTarget(self, input[2])}
   else
      self.gradInput = gin
   end
   return self.gradInput
end

function SpatialFullConvolution:accGradParameters(input, gradOutput, scale)
   if type(input) == 'table' and not torch.isTensor(input) then input = input[1] end
   ops.checkGradOutput(self, input, gradOutput)
   local dilW, dilH = self:_dilation()
   local gw = ops.gradParam(self, 'gradWeight', self.weight)
   local gb = ops.gradParam(self, 'gradBias', self.bias)
   kernels.full_conv2d_acc_grad(gw, gb, input, gradOutput, self.kW, self.kH, self.dW, self.dH, self.padW, self.padH, dilW, dilH,
                                scale or 1)
end

function SpatialFullConvolution:__tostring__()
   local s = string.format('%s(%d -> %d, %dx%d, %d,%d, %d,%d', torch.type(self),
                           self.nInputPlane, self.nOutputPlane, self.kW, self.kH, self.dW,
                           self.dH, self.padW or 0, self.padH or 0)
   if (self.adjW or 0) ~= 0 or (self.adjH or 0) ~= 0 then
      s = s .. string.format(', %d,%d', self.adjW, self.adjH)
   end
   return s .. (self.bias and ')' or ') without bias')
end
