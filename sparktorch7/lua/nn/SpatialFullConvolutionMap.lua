local schema = require('nn.schema')
local SpatialFullConvolutionMap, parent = torch.class('nn.SpatialFullConvolutionMap', 'nn.Module')

schema.declare(SpatialFullConvolutionMap, {
   {'nInputPlane', 'posint'}, {'nOutputPlane', 'posint'},
   {'kW', 'posint'}, {'kH', 'posint'},
   {'dW', 'posint'}, {'dH', 'posint'},
   {'connTable', 'tensor', dim = 2, check = nn.SpatialConvolutionMap._checkConnections},
   {'weight', 'tensor', size = {'connTable:size(1)', 'kH', 'kW'}},
   {'bias', 'tensor', nElement = 'nOutputPlane'},
   {'gradWeight', 'tensor?'}, {'gradBias', 'tensor?'},
})
local ops = require 'nn.spatial_ops'
local kernels = require 'nn.kernels'

-- The transposed (full) convolution of nn.SpatialConvolutionMap: row k of connTable is
-- {input plane, output plane} (1-based) and weight[k] (kH x kW) that connection's
-- kernel; an input plane H x W gives output planes (H-1)*dH + kH x (W-1)*dW + kW.
function SpatialFullConvolutionMap:__init(conMatrix, kW, kH, dW, dH)
   parent.__init(self)
   self.kW = kW
   self.kH = kH
   self.dW = dW or 1
   self.dH = dH or 1
   self.connTable = conMatrix
   self.nInputPlane = conMatrix:select(2, 1):max()
   self.nOutputPlane = conMatrix:select(2, 2):max()
   self.weight = torch.Tensor(conMatrix:size(1), kH, kW)
   self.gradWeight = torch.Tensor(conMatrix:size(1), kH, kW)
   self.bias = torch.Tensor(self.nOutputPlane)
   self.gradBias = torch.Tensor(self.nOutputPlane)
   self:reset()
end

-- Torch7: each kernel (and bias) uniform in +-1/sqrt(kW*kH*fan-in of its output plane)
function SpatialFullConvolutionMap:reset(stdv)
   if stdv then
      stdv = stdv * math.sqrt(3)
      self.weight:uniform(-stdv, stdv)
      self.bias:uniform(-stdv, stdv)
      return
   end
   local fanin = torch.zeros(self.nOutputPlane)
   for k = 1, self.connTable:size(1) do
      local o = self.connTable[k][2]
      fanin[o] = fanin[o] + 1
   end
   for k = 1, self.connTable:size(1) do
      local s = 1 / math.sqrt(self.kW * self.kH * fanin[self.connTable[k][2]])
      self.weight:select(1, k):uniform(-s, s)
   end
   for o = 1, self.nOutputPlane do
      local s = 1 / math.sqrt(self.kW * self.kH * fanin[o])
      self.bias[o] = torch.uniform(-s, s)
   end
end

function SpatialFullConvolutionMap:updateOutput(input)
   local dim = ops.checkDim(self, input, 3, 4, '3D or 4D (batch mode)')
   if input:size(dim - 2) < self.nInputPlane then
      ops.fail(self, 'invalid number of input planes: the input has %d, the connection table uses %d',
               input:size(dim - 2), self.nInputPlane)
   end
   ops.checkType(self, input, 'weight', self.weight)
   ops.checkType(self, input, 'bias', self.bias)
   local oH = (input:size(dim - 1) - 1) * self.dH + self.kH
   local oW = (input:size(dim) - 1) * self.dW + self.kW
   local out = kernels.output(self, input, ops.withTail(input, dim - 3, {self.nOutputPlane, oH, oW}))
   kernels.full_conv_map2d(out, input, self.connTable, self.weight, self.bias, self.dW, self.dH)
   return out
end

function SpatialFullConvolutionMap:updateGradInput(input, gradOutput)
   ops.checkGradOutput(self, input, gradOutput)
   local gin = kernels.output(self, input, nil, 'gradInput')
   kernels.full_conv_map2d_grad_input(gin, gradOutput, self.connTable, self.weight, self.dW, self.dH)
   return gin
end

function SpatialFullConvolutionMap:accGradParameters(input, gradOutput, scale)
   ops.checkGradOutput(self, input, gradOutput)
   local gw = ops.gradParam(self, 'gradWeight', self.weight)
   local gb = ops.gradParam(self, 'gradBias', self.bias)
   kernels.full_conv_map2d_acc_grad(gw, gb, input, gradOutput, self.connTable, self.dW, self.dH,
                                    scale or 1)
end

function SpatialFullConvolutionMap:__tostring__()
   return string.format('%s(%d -> %d, %dx%d, %d,%d)', torch.type(self), self.nInputPlane,
                        self.nOutputPlane, self.kW, self.kH, self.dW, self.dH)
end
