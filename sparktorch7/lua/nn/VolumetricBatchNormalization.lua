local schema = require('nn.schema')
local VolumetricBatchNormalization, parent =
   torch.class('nn.VolumetricBatchNormalization', 'nn.BatchNormalization')

schema.inherited(VolumetricBatchNormalization, "nn.BatchNormalization's fields")

-- Batch normalization per plane of (N, C, T, H, W) volumes.
VolumetricBatchNormalization.__version = 2
VolumetricBatchNormalization.nDim = 5

function VolumetricBatchNormalization:updateOutput(input)
   return nn.SpatialBatchNormalization.forwardNd(self, input)
end
