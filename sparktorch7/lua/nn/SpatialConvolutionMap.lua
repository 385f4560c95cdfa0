local schema = require('nn.schema')
local SpatialConvolutionMap, parent = torch.class('nn.SpatialConvolutionMap', 'nn.Module')

-- every connection {input plane, output plane} names planes that exist
local function connectionTable(conn, m)
   if conn:size(2) ~= 2 then
      return 'a tensor of nConnections x 2 {input plane, output plane} pairs', schema.holds(conn)
   end
   local nIn, nOut = rawget(m, 'nInputPlane'), rawget(m, 'nOutputPlane')
   for i = 1, conn:size(1) do
      local a, b = conn[i][1], conn[i][2]
      if a ~= math.floor(a) or a < 1 or a > nIn or b ~= math.floor(b) or b < 1 or b > nOut then
         return string.format('connections between input planes 1..%d and output planes 1..%d', nIn, nOut),
                string.format('the connection {%s, %s} at row %d', tostring(a), tostring(b), i)
      end
   end
end
-- shared with nn.SpatialFullConvolutionMap, whose table means the same
SpatialConvolutionMap._checkConnections = connectionTable
schema.declare(SpatialConvolutionMap, {
   {'nInputPlane', 'posint'}, {'nOutputPlane', 'posint'},
   {'kW', 'posint'}, {'kH', 'posint'},
   {'dW', 'posint'}, {'dH', 'posint'},
   {'connTable', 'tensor', dim = 2, check = connectionTable},
   {'weight', 'tensor', nElement = 'connTable:size(1) * kH * kW'},
   {'bias', 'tensor', nElement = 'nOutputPlane'},
   {'gradWeight', 'tensor?'}, {'gradBias', 'tensor?'},
})
local ops = require 'nn.spatial_ops'
local kernels = require 'nn.kernels'
require 'nn.tables'

-- A convolution with a sparse connection table: row k of connTable is {input plane,
-- output plane} (1-based), and weight[k] (kH x kW) is that connection's kernel.
function SpatialConvolutionMap:__init(conMatrix, kW, kH, dW, dH)
   parent.__init(self)
   self.kW = kW
   self.kH = kH
   self.dW = dW or 1
   self.dH = dH or 1
   self.connTable = conMatrix
   local nIn, nOut = 0, 0
   for k = 1, conMatrix:size(1) do
      nIn = math.max(nIn, conMatrix[k][1])
      nOut = math.max(nOut, conMatrix[k][2])
   end
   self.nInputPlane = nIn
   self.nOutputPlane = nOut
   self.weight = torch.Tensor(conMatrix:size(1), kH, kW)
   self.bias = torch.Tensor(nOut)
   self.gradWeight = torch.Tensor(conMatrix:size(1), kH, kW)
   self.gradBias = torch.Tensor(nOut)
   self:reset()
end

function SpatialConvolutionMap:reset(stdv)
   if stdv then
      stdv = stdv * math.sqrt(3)
   else
      -- Torch7 scales by the number of connections into each output plane; with
      -- uniform tables that is nConnections / nOutputPlane
      local fanin = self.connTable:size(1) / self.nOutputPlane
      stdv = 1 / math.sqrt(self.kW * self.kH * fanin)
   end
   self.weight:uniform(-stdv, stdv)
   self.bias:uniform(-stdv, stdv)
end

function SpatialConvolutionMap:updateOutput(input)
   local dim = ops.checkDim(self, input, 3, 4, '3D or 4D (batch mode)')
   if input:size(dim - 2) < self.nInputPlane then
      ops.fail(self, 'input has %d planes, the connection table uses %d', input:size(dim - 2),
               self.nInputPlane)
   end
   ops.checkType(self, input, 'weight', self.weight)
   local iH, iW = input:size(dim - 1), input:size(dim)
   local oH = math.floor((iH - self.kH) / self.dH) + 1
   local oW = math.floor((iW - self.kW) / self.dW) + 1
   if oH < 1 or oW < 1 then
      ops.fail(self, 'input image (%dx%d) smaller than kernel size (%dx%d)', iH, iW, self.kH, self.kW)
   end
   local out = kernels.output(self, input, ops.withTail(input, dim - 3, {self.nOutputPlane, oH, oW}))
   kernels.conv_map2d(out, input, self.connTable, self.weight, self.bias, self.kW, self.kH,
                      self.dW, self.dH)
   return out
end

function SpatialConvolutionMap:updateGradInput(input, gradOutput)
   ops.checkGradOutput(self, input, gradOutput)
   local gin = kernels.output(self, input, nil, 'gradInput')
   kernels.conv_map2d_grad_input(gin, gradOutput, self.connTable, self.weight, self.kW, self.kH,
            self.dW, self.dH)
   return gin
end

function SpatialConvolutionMap:accGradParameters(input, gradOutput, scale)
   ops.checkGradOutput(self, input, gradOutput)
   local gw = ops.gradParam(self, 'gradWeight', self.weight)
   local gb = ops.gradParam(self, 'gradBias', self.bias)
   kernels.conv_map2d_acc_grad(gw, gb, input, gradOutput, self.connTable, self.kW, self.kH,
            self.dW, self.dH, scale or 1)
end
