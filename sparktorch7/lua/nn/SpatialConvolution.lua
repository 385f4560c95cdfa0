local schema = require('nn.schema')
local SpatialConvolution, parent = torch.class('nn.SpatialConvolution', 'nn.Module')

schema.declare(SpatialConvolution, {
   {'nInputPlane', 'posint'}, {'nOutputPlane', 'posint'},
   {'kW', 'posint'}, {'kH', 'posint'},
   {'dW', 'posint?', default = 1}, {'dH', 'posint?', default = 1},   -- old MM files: absent (1)
   {'padW', 'natural?'}, {'padH', 'natural?'},
   {'padding', 'natural?'},
   {'groups', 'posint?', default = 1, check = 'nInputPlane % groups + nOutputPlane % groups == 0'},
   {'weight', 'tensor', nElement = 'nOutputPlane * (nInputPlane / groups) * kH * kW'},
   {'bias', 'tensor?', nElement = 'nOutputPlane'},
   {'gradWeight', 'tensor?', check = function(g, m)
      -- backCompatibility views a 2-D gradWeight (old files) as the 4-D weight
      if g:dim() == 2 and g:nElement() ~= m.weight:nElement() then
         return string.format('a 2-D tensor of %d elements, as many as weight', m.weight:nElement()),
                string.format('%s (%d elements)', schema.holds(g), g:nElement())
      end
   end},
   {'gradBias', 'tensor?'},
})
local ops = require 'nn.spatial_ops'
local kernels = require 'nn.kernels'

function SpatialConvolution:__init(nInputPlane, nOutputPlane, kW, kH, dW, dH, padW, padH)
   parent.__init(self)
   dW = dW or 1
   dH = dH or 1
   self.nInputPlane = nInputPlane
   self.nOutputPlane = nOutputPlane
   self.kW = kW
   self.kH = kH
   self.dW = dW
   self.dH = dH
   self.padW = padW or 0
   self.padH = padH or self.padW
   self.weight = torch.Tensor(nOutputPlane, nInputPlane, kH, kW)
   self.bias = torch.Tensor(nOutputPlane)
   self.gradWeight = torch.Tensor(nOutputPlane, nInputPlane, kH, kW)
   self.gradBias = torch.Tensor(nOutputPlane)
   self:reset()
end

function SpatialConvolution:noBias()
   self.bias = nil
   self.gradBias = nil
   return self
end

function SpatialConvolution:reset(stdv)
   nn.utils.resetUniform(self, stdv, self.kW * self.kH * self.nInputPlane / (self.groups or 1))
end

-- Files written by older Torch7: one `padding` for both sides, no padW/padH, the
-- weight kept as a 2-D matrix nOutputPlane x (nInputPlane*kH*kW).
function SpatialConvolution:backCompatibility()
   -- files older than the stride fields (SpatialConvolutionMM of 2013) step by 1
   self.dW = self.dW or 1
   self.dH = self.dH or 1
   if self.padding then
      self.padW = self.padding
      self.padH = self.padding
      self.padding = nil
   else
      self.padW = self.padW or 0
      self.padH = self.padH or 0
   end
   if self.weight and self.weight:dim() == 2 then
      local g = self.groups or 1
      self.weight = self.weight:contiguous():view(self.nOutputPlane, self.nInputPlane / g,
                                                  self.kH, self.kW)
   end
   if self.gradWeight and self.gradWeight:dim() == 2 then
      local g = self.groups or 1
      self.gradWeight = self.gradWeight:contiguous():view(self.nOutputPlane, self.nInputPlane / g,
                                                          self.kH, self.kW)
   end
end

-- Output size and kernel arguments shared by the convolution family.
function SpatialConvolution:_dilation()
   return 1, 1
end

function SpatialConvolution:updateOutput(input)
   self:backCompatibility()
   local dim = ops.checkDim(self, input, 3, 4, '3D or 4D (batch mode)')
   ops.checkPlanes(self, input, dim - 2, self.nInputPlane)
   ops.checkType(self, input, 'weight', self.weight)
   ops.checkType(self, input, 'bias', self.bias)
   local g = self.groups or 1
   if self.weight:nElement() ~= self.nOutputPlane * (self.nInputPlane / g) * self.kH * self.kW then
      ops.fail(self, 'weight has %d elements, expected nOutputPlane x nInputPlane/groups x kH x kW'
               .. ' = %d x %d x %d x %d', self.weight:nElement(), self.nOutputPlane,
               self.nInputPlane / g, self.kH, self.kW)
   end
   local dilW, dilH = self:_dilation()
   local iH, iW = input:size(dim - 1), input:size(dim)
   local oH = math.floor((iH + 2 * self.padH - (dilH * (self.kH - 1) + 1)) / self.dH) + 1
   local oW = math.floor((iW + 2 * self.padW - (dilW * (self.kW - 1) + 1)) / self.dW) + 1
   if oH < 1 or oW < 1 then
      ops.fail(self, 'input image (%dx%d) is too small for the kernel: calculated output '
               .. 'size %dx%d', iH, iW, oH, oW)
   end
   local out = kernels.output(self, input, ops.withTail(input, dim - 3, {self.nOutputPlane, oH, oW}))
   kernels.conv2d(out, input, self.weight, self.bias, self.kW, self.kH, self.dW, self.dH,
                  self.padW, self.padH, dilW, dilH, g)
   return out
end

function SpatialConvolution:updateGradInput(input, gradOutput)
   ops.checkGradOutput(self, input, gradOutput)
   local dilW, dilH = self:_dilation()
   local gin = kernels.output(self, input, nil, 'gradInput')
   kernels.conv2d_grad_input(gin, gradOutput, self.weight, self.kW, self.kH, self.dW,
                             self.dH, self.padW, self.padH, dilW, dilH, self.groups or 1)
   return gin
end

function SpatialConvolution:accGradParameters(input, gradOutput, scale)
   ops.checkGradOutput(self, input, gradOutput)
   local dilW, dilH = self:_dilation()
   local gw = ops.gradParam(self, 'gradWeight', self.weight)
   local gb = ops.gradParam(self, 'gradBias', self.bias)
   kernels.conv2d_acc_grad(gw, gb, input, gradOutput, self.kW, self.kH, self.dW, self.dH,
                           self.padW, self.padH, dilW, dilH, self.groups or 1, scale or 1)
end

function SpatialConvolution:__tostring__()
   local s = string.format('%s(%d -> %d, %dx%d', torch.type(self), self.nInputPlane,
                           self.nOutputPlane, self.kW, self.kH)
   if self.dW ~= 1 or self.dH ~= 1 or (self.padW or 0) ~= 0 or (self.padH or 0) ~= 0 then
      s = s .. string.format(', %d,%d', self.dW, self.dH)
   end
   if (self.padW or 0) ~= 0 or (self.padH or 0) ~= 0 then
      s = s .. string.format(', %d,%d', self.padW, self.padH)
   end
   if self.bias == nil then
      s = s .. ') without bias'
   else
      s = s .. ')'
   end
   return s
end
