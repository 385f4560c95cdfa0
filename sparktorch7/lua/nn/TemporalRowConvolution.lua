local schema = require('nn.schema')
local TemporalRowConvolution, parent = torch.class('nn.TemporalRowConvolution', 'nn.Module')

schema.declare(TemporalRowConvolution, {
   {'inputFrameSize', 'posint'}, {'kW', 'posint'}, {'dW', 'posint'},
   {'featFirst', 'boolean?'},
   {'weight', 'tensor', nElement = 'inputFrameSize * kW'},
   {'bias', 'tensor?', nElement = 'inputFrameSize'},
   {'gradWeight', 'tensor?'}, {'gradBias', 'tensor?'},
})
local ops = require 'nn.spatial_ops'
local kernels = require 'nn.kernels'

-- A 1-D convolution of each feature row with its own kernel (weight inputFrameSize x 1 x
-- kW, bias inputFrameSize): out[t][f] = bias[f] + sum_k weight[f][1][k] * x[(t-1)*dW + k][f].
-- The input is nInputFrame x inputFrameSize (or inputFrameSize x nInputFrame with
-- featFirst), with an optional leading batch dimension; the output has the same layout.
function TemporalRowConvolution:__init(inputFrameSize, kW, dW, featFirst)
   parent.__init(self)
   self.inputFrameSize = inputFrameSize
   self.kW = kW
   self.dW = dW or 1
   self.weight = torch.Tensor(inputFrameSize, 1, kW)
   self.bias = torch.Tensor(inputFrameSize)
   self.gradWeight = torch.Tensor(inputFrameSize, 1, kW)
   self.gradBias = torch.Tensor(inputFrameSize)
   self.featFirst = featFirst and true or false
   self:reset()
end

TemporalRowConvolution.noBias = nn.SpatialConvolution.noBias

function TemporalRowConvolution:reset(stdv)
   nn.utils.resetUniform(self, stdv, self.kW * self.inputFrameSize)
end

function TemporalRowConvolution:updateOutput(input)
   local dim = ops.checkDim(self, input, 2, 3, '2D or 3D (batch mode)')
   local fdim, tdim = dim, dim - 1
   if self.featFirst then fdim, tdim = dim - 1, dim end
   if input:size(fdim) ~= self.inputFrameSize then
      ops.fail(self, 'invalid input frame size: got %d features in dimension %d, expected %d',
               input:size(fdim), fdim, self.inputFrameSize)
   end
   ops.checkType(self, input, 'weight', self.weight)
   ops.checkType(self, input, 'bias', self.bias)
   local nOut = math.floor((input:size(tdim) - self.kW) / self.dW) + 1
   if nOut < 1 then
      ops.fail(self, 'given input size: (%s), calculated output size: %d frames: output size is too small',
               ops.sizestr(input), nOut)
   end
   local sizes = ops.sizes(input)
   sizes[tdim] = nOut
   local out = kernels.output(self, input, sizes)
   kernels.row_conv(out, input, self.weight, self.bias, self.kW, self.dW, self.featFirst)
   return out
end

function TemporalRowConvolution:updateGradInput(input, gradOutput)
   ops.checkGradOutput(self, input, gradOutput)
   local gin = kernels.output(self, input, nil, 'gradInput')
   kernels.row_conv_grad_input(gin, gradOutput, self.weight, self.kW, self.dW, self.featFirst)
   return gin
end

function TemporalRowConvolution:accGradParameters(input, gradOutput, scale)
   ops.checkGradOutput(self, input, gradOutput)
   local gw = ops.gradParam(self, 'gradWeight', self.weight)
   local gb = ops.gradParam(self, 'gradBias', self.bias)
   kernels.row_conv_acc_grad(gw, gb, input, gradOutput, self.kW, self.dW, self.featFirst, scale or 1)
end

function TemporalRowConvolution:__tostring__()
   local s = string.format('%s(%d, %d', torch.type(self), self.inputFrameSize, self.kW)
   if self.dW ~= 1 then
      s = s .. string.format(', %d', self.dW)
   end
   return s .. (self.bias and ')' or ') without bias')
end
