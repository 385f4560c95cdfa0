-- cudnn.BatchNormalization: the same computation as nn.BatchNormalization.
local schema = require('nn.schema')
local BN, parent = torch.class('cudnn.BatchNormalization', 'nn.BatchNormalization')

schema.inherited(BN, "nn.BatchNormalization's fields")

BN.mode = 'CUDNN_BATCHNORM_PER_ACTIVATION'
BN.nDim = 2

return BN
