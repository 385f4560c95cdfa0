local schema = require('nn.schema')
local SpatialBatchNormalization, parent =
   torch.class('nn.SpatialBatchNormalization', 'nn.BatchNormalization')

schema.inherited(SpatialBatchNormalization, "nn.BatchNormalization's fields")
local ops = require 'nn.spatial_ops'
local kernels = require 'nn.kernels'

-- Batch normalization per plane of (N, C, H, W) images; a single (C, H, W) image is
-- accepted in evaluation mode, as in Torch7.
SpatialBatchNormalization.__version = 2
SpatialBatchNormalization.nDim = 4

-- The Spatial and Volumetric variants share this forward (see
-- VolumetricBatchNormalization.lua).
function SpatialBatchNormalization.forwardNd(self, input)
   local nDim = self.nDim
   if not torch.isTensor(input) then
      ops.fail(self, 'only mini-batch supported (%dD tensor), got a %s', nDim, torch.type(input))
   end
   local d = input:dim()
   -- as THNN received it through the FFI, a missing `train` means evaluation
   local train = self.train == true
   if not (d == nDim or (d == nDim - 1 and not train)) then
      ops.fail(self, 'only mini-batch supported (%dD tensor), got %s%dD tensor instead',
               nDim, self.train and 'training ' or '', d)
   end
   -- files older than version 2 kept 1/sqrt(var + eps) as running_std
   if self.running_var == nil and self.running_std ~= nil then
      self.running_var = self.running_std:clone()
      kernels.bn_var_from_std(self.running_var, self.running_std, self.eps)
      self.running_std = nil
   end
   if input:nElement() == 0 then
      ops.fail(self, 'non-empty %dD tensor expected for input, but got: [%s of size %s]', nDim,
               torch.type(input), ops.sizestr(input))
   end
   local featDim = (d == nDim - 1) and 1 or 2
   local nf = self.running_mean:nElement()
   if input:size(featDim) ~= nf then
      ops.fail(self, 'got %d-feature tensor, expected %d', input:size(featDim), nf)
   end
   ops.checkType(self, input, 'running_mean', self.running_mean)
   ops.checkType(self, input, 'weight', self.weight)
   local sizes = {}
   for i = 1, d do sizes[i] = input:size(i) end
   local out = kernels.output(self, input, sizes)
   if train then
      self.save_mean = kernels.output(self, input, {nf}, 'save_mean')
      self.save_std = kernels.output(self, input, {nf}, 'save_std')
   end
   kernels.batchnorm(out, input, d == nDim - 1, self.weight, self.bias, self.running_mean,
                     self.running_var, train and self.save_mean or nil, train and self.save_std or nil,
                     train, self.momentum or 0.1, self.eps or 1e-5)
   return out
end

function SpatialBatchNormalization:updateOutput(input)
   return SpatialBatchNormalization.forwardNd(self, input)
end
