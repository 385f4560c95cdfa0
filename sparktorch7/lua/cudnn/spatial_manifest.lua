-- The cudnn classes of spatial/volumetric layers, in dependency order: cudnn/init.lua
-- requires 'cudnn.<name>' for each. Each inherits its nn twin and runs on the CPU.
-- cudnn.SoftMax/LogSoftMax/SpatialLogSoftMax (from cudnn/init.lua's own list) may
-- inherit cudnn.SpatialSoftMax, which honours `mode` and `algorithm`.
return {
   'SpatialConvolution',
   'SpatialFullConvolution',
   'VolumetricConvolution',
   'SpatialMaxPooling',
   'SpatialAveragePooling',
   'VolumetricMaxPooling',
   'SpatialBatchNormalization',
   'VolumetricBatchNormalization',
   'SpatialCrossMapLRN',
   'SpatialSoftMax',
}
