-- cudnn.BatchNormalization: the same computation as nn.BatchNormalization.
local BN, parent = torch.class('cudnn.BatchNormalization', 'nn.BatchNormalization')

BN.mode = 'CUDNN_BATCHNORM_PER_ACTIVATION'
BN.nDim = 2

return BN
