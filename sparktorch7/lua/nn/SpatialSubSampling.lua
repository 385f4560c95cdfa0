local schema = require('nn.schema')
local SpatialSubSampling, parent = torch.class('nn.SpatialSubSampling', 'nn.Module')

schema.declare(SpatialSubSampling, {
   {'nInputPlane', 'posint'},
   {'kW', 'posint'}, {'kH', 'posint'},
   {'dW', 'posint'}, {'dH', 'posint'},
   {'weight', 'tensor', nElement = 'nInputPlane'},
   {'bias', 'tensor', nElement = 'nInputPlane'},
   {'gradWeight', 'tensor?'}, {'gradBias', 'tensor?'},
})
local ops = require 'nn.spatial_ops'
local kernels = require 'nn.kernels'

-- LeNet's sub-sampling: per plane c, bias[c] + weight[c] * (sum over the kW x kH window).
function SpatialSubSampling:__init(nInputPlane, kW, kH, dW, dH)
   parent.__init(self)
   self.nInputPlane = nInputPlane
   self.kW = kW
   self.kH = kH
   self.dW = dW or 1
   self.dH = dH or 1
   self.weight = torch.Tensor(nInputPlane)
   self.bias = torch.Tensor(nInputPlane)
   self.gradWeight = torch.Tensor(nInputPlane)
   self.gradBias = torch.Tensor(nInputPlane)
   self:reset()
end

function SpatialSubSampling:reset(stdv)
   if stdv then
      stdv = stdv * math.sqrt(3)
   else
      stdv = 1 / math.sqrt(self.kW * self.kH)
   end
   self.weight:uniform(-stdv, stdv)
   self.bias:uniform(-stdv, stdv)
end

-- Old files hold the per-plane weight with extra singleton dimensions (3-D):
-- any weight of nInputPlane elements is that vector.
function SpatialSubSampling:backCompatibility(version)
   parent.backCompatibility(self, version)
   self.dW = self.dW or 1
   self.dH = self.dH or 1
   for _, k in ipairs({'weight', 'bias', 'gradWeight', 'gradBias'}) do
      local t = self[k]
      if torch.isTensor(t) and t:dim() > 1 and t:nElement() == self.nInputPlane then
         self[k] = t:contiguous():view(self.nInputPlane)
      end
   end
end

function SpatialSubSampling:updateOutput(input)
   local dim = ops.checkDim(self, input, 3, 4, '3D or 4D (batch mode)')
   ops.checkPlanes(self, input, dim - 2, self.nInputPlane)
   ops.checkType(self, input, 'weight', self.weight)
   if self.weight:nElement() ~= self.nInputPlane or self.bias:nElement() ~= self.nInputPlane then
      ops.fail(self, 'weight and bias must hold one value per input plane (%d), got %s and %s',
               self.nInputPlane, ops.sizestr(self.weight), ops.sizestr(self.bias))
   end
   local iH, iW = input:size(dim - 1), input:size(dim)
   local oH = math.floor((iH - self.kH) / self.dH) + 1
   local oW = math.floor((iW - self.kW) / self.dW) + 1
   if iH < self.kH or iW < self.kW then
      ops.fail(self, 'input image (%dx%d) smaller than kernel size (%dx%d)', iH, iW, self.kH, self.kW)
   end
   local out = kernels.output(self, input, ops.withTail(input, dim - 2, {oH, oW}))
   kernels.subsampling2d(out, input, self.weight, self.bias, self.kW, self.kH, self.dW, self.dH)
   return out
end
