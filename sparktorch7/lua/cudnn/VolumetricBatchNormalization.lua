local schema = require('nn.schema')
local VolumetricBatchNormalization, parent =
   torch.class('cudnn.VolumetricBatchNormalization', 'nn.VolumetricBatchNormalization')

schema.inherited(VolumetricBatchNormalization, "nn.VolumetricBatchNormalization's fields")

-- cudnn.torch saved the same fields as nn (running_mean, running_var, weight, bias,
-- eps, momentum, train, affine, save_mean, save_std) plus its `mode`.
function VolumetricBatchNormalization:clearDesc() return self end
