local schema = require('nn.schema')
local VolumetricFullConvolution, parent = torch.class('nn.VolumetricFullConvolution', 'nn.Module')

schema.declare(VolumetricFullConvolution, {
   {'nInputPlane', 'posint'}, {'nOutputPlane', 'posint'},
   {'kT', 'posint'}, {'kW', 'posint'}, {'kH', 'posint'},
   {'dT', 'posint'}, {'dW', 'posint'}, {'dH', 'posint'},
   {'padT', 'natural?'}, {'padW', 'natural?'}, {'padH', 'natural?'},
   {'adjT', 'natural?'}, {'adjW', 'natural?'}, {'adjH', 'natural?'},
   {'weight', 'tensor', nElement = 'nInputPlane * nOutputPlane * kT * kH * kW'},
   {'bias', 'tensor?', nElement = 'nOutputPlane'},
   {'gradWeight', 'tensor?'}, {'gradBias', 'tensor?'},
})
local ops = require 'nn.spatial_ops'
local kernels = require 'nn.kernels'

-- 3-D transposed convolution: weight nInputPlane x nOutputPlane x kT x kH x kW, output
-- size (in - 1) * stride - 2 * pad + kernel + adj along each axis.
function VolumetricFullConvolution:__init(nInputPlane, nOutputPlane, kT, kW, kH, dT, dW, dH,
                                          padT, padW, padH, adjT, adjW, adjH)
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
   self.padW = padW or 0
   self.padH = padH or 0
   self.adjT = adjT or 0
   self.adjW = adjW or 0
   self.adjH = adjH or 0
   if self.adjT > self.dT - 1 or self.adjW > self.dW - 1 or self.adjH > self.dH - 1 then
      error('<nn.VolumetricFullConvolution> adjT, adjW and adjH must be smaller than dT, dW '
            .. 'and dH', 2)
   end
   self.weight = torch.Tensor(nInputPlane, nOutputPlane, kT, kH, kW)
   self.gradWeight = torch.Tensor(nInputPlane, nOutputPlane, kT, kH, kW)
   self.bias = torch.Tensor(nOutputPlane)
   self.gradBias = torch.Tensor(nOutputPlane)
   self:reset()
end

function VolumetricFullConvolution:noBias()
   self.bias = nil
   self.gradBias = nil
   return self
end

function VolumetricFullConvolution:reset(stdv)
   nn.utils.resetUniform(self, stdv, self.kT * self.kW * self.kH * self.nInputPlane)
end

function VolumetricFullConvolution:backCompatibility()
   -- files from before adj (2016) hold the weight as nOutputPlane x nInputPlane x ...
   -- and name the padding pT, pW, pH
   if not self.adjW and torch.isTensor(self.weight) and self.weight:dim() == 5 then
      self.weight = self.weight:transpose(1, 2):contiguous()
   end
   self.adjT = self.adjT or 0
   self.adjW = self.adjW or 0
   self.adjH = self.adjH or 0
   self.padT = self.padT or self.pT or 0
   self.padW = self.padW or self.pW or 0
   self.padH = self.padH or self.pH or 0
end

-- input may be {volume, targetSizeTensor}: adj then makes the output that size.
function VolumetricFullConvolution:updateOutput(input)
   self:backCompatibility()
   local adjT, adjW, adjH = self.adjT, self.adjW, self.adjH
   if type(input) == 'table' and not torch.isTensor(input) then
      local target = input[2]
      input = input[1]
      local td = target:dim()
      adjT = (target:size(td - 2) + 2 * self.padT - self.kT) % self.dT
      adjH = (target:size(td - 1) + 2 * self.padH - self.kH) % self.dH
      adjW = (target:size(td) + 2 * self.padW - self.kW) % self.dW
   end
   local dim = ops.checkDim(self, input, 4, 5, '4D or 5D (batch mode)')
   ops.checkPlanes(self, input, dim - 3, self.nInputPlane)
   ops.checkType(self, input, 'weight', self.weight)
   ops.checkType(self, input, 'bias', self.bias)
   local iT, iH, iW = input:size(dim - 2), input:size(dim - 1), input:size(dim)
   local oT = (iT - 1) * self.dT - 2 * self.padT + self.kT + adjT
   local oH = (iH - 1) * self.dH - 2 * self.padH + self.kH + adjH
   local oW = (iW - 1) * self.dW - 2 * self.padW + self.kW + adjW
   if oT < 1 or oH < 1 or oW < 1 then
      ops.fail(self, 'input volume (%dx%dx%d) too small: calculated output size %dx%dx%d', iT, iH,
               iW, oT, oH, oW)
   end
   local out = kernels.output(self, input, ops.withTail(input, dim - 4,
                              {self.nOutputPlane, oT, oH, oW}))
   kernels.full_conv3d(out, input, self.weight, self.bias, self.kT, self.kW, self.kH, self.dT,
                       self.dW, self.dH, self.padT, self.padW, self.padH)
   return out
end

-- With a table input {image, target} the target only sets the size: its gradient
-- is zero.
function VolumetricFullConvolution:updateGradInput(input, gradOutput)
   local image = input
   if type(input) == 'table' and not torch.isTensor(input) then image = input[1] end
   ops.checkGradOutput(self, image, gradOutput)
   local prev = self.gradInput
   if not torch.isTensor(prev) then self.gradInput = torch.isTensor(prev[1]) and prev[1] or image.new() end
   local gin = kernels.output(self, image, nil, 'gradInput')
   kernels.full_conv3d_grad_input(gin, gradOutput, self.weight, self.kT, self.kW, self.kH, self.dT, self.dW, self.dH, self.padT,
                                  self.padW, self.padH)
   if image ~= input then
      self.gradInput = {gin, ops.zeroGradOfTarget(self, input[2])}
   else
      self.gradInput = gin
   end
   return self.gradInput
end

function VolumetricFullConvolution:accGradParameters(input, gradOutput, scale)
   if type(input) == 'table' and not torch.isTensor(input) then input = input[1] end
   ops.checkGradOutput(self, input, gradOutput)
   local gw = ops.gradParam(self, 'gradWeight', self.weight)
   local gb = ops.gradParam(self, 'gradBias', self.bias)
   kernels.full_conv3d_acc_grad(gw, gb, input, gradOutput, self.kT, self.kW, self.kH, self.dT, self.dW, self.dH, self.padT, self.padW,
                                self.padH,
                                scale or 1)
end

function VolumetricFullConvolution:__tostring__()
   return string.format('%s(%d -> %d, %dx%dx%d, %d,%d,%d, %d,%d,%d, %d,%d,%d)', torch.type(self),
                        self.nInputPlane, self.nOutputPlane, self.kT, self.kW, self.kH, self.dT,
                        self.dW, self.dH, self.padT, self.padW, self.padH, self.adjT, self.adjW,
                        self.adjH)
end
