local schema = require('nn.schema')
local TemporalSubSampling, parent = torch.class('nn.TemporalSubSampling', 'nn.Module')

schema.declare(TemporalSubSampling, {
   {'inputFrameSize', 'posint'},
   {'kW', 'posint'}, {'dW', 'posint'},
   {'weight', 'tensor', nElement = 'inputFrameSize'},
   {'bias', 'tensor', nElement = 'inputFrameSize'},
   {'gradWeight', 'tensor?'}, {'gradBias', 'tensor?'},
})
local ops = require 'nn.spatial_ops'
local kernels = require 'nn.kernels'

-- Per feature f: bias[f] + weight[f] * (sum of the kW frames of each window).
function TemporalSubSampling:__init(inputFrameSize, kW, dW)
   parent.__init(self)
   self.inputFrameSize = inputFrameSize
   self.kW = kW
   self.dW = dW or 1
   self.weight = torch.Tensor(inputFrameSize)
   self.bias = torch.Tensor(inputFrameSize)
   self.gradWeight = torch.Tensor(inputFrameSize)
   self.gradBias = torch.Tensor(inputFrameSize)
   self:reset()
end

function TemporalSubSampling:reset(stdv)
   if stdv then
      stdv = stdv * math.sqrt(3)
   else
      stdv = 1 / math.sqrt(self.kW)
   end
   self.weight:uniform(-stdv, stdv)
   self.bias:uniform(-stdv, stdv)
end

function TemporalSubSampling:updateOutput(input)
   local dim = ops.checkDim(self, input, 2, 3, '2D or 3D (batch mode)')
   if input:size(dim) ~= self.inputFrameSize then
      ops.fail(self, 'invalid input frame size. Got: %d, Expected: %d', input:size(dim),
               self.inputFrameSize)
   end
   local nIn = input:size(dim - 1)
   if nIn < self.kW then
      ops.fail(self, 'input sequence smaller than kernel size. Got: %d, Expected: %d', nIn, self.kW)
   end
   ops.checkType(self, input, 'weight', self.weight)
   local nOut = math.floor((nIn - self.kW) / self.dW) + 1
   local out = kernels.output(self, input, ops.withTail(input, dim - 2, {nOut, self.inputFrameSize}))
   kernels.temporal_subsampling(out, input, self.weight, self.bias, self.kW, self.dW)
   return out
end
