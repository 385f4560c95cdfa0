local schema = require('nn.schema')
local SpatialBatchNormalization, parent =
   torch.class('cudnn.SpatialBatchNormalization', 'nn.SpatialBatchNormalization')

schema.inherited(SpatialBatchNormalization, "nn.SpatialBatchNormalization's fields")

-- cudnn.torch saved the same fields as nn (running_mean, running_var, weight, bias,
-- eps, momentum, train, affine, save_mean, save_std) plus its `mode`.
function SpatialBatchNormalization:clearDesc() return self end
