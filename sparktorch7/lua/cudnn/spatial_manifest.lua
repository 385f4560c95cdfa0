-- The cudnn classes of spatial/volumetric layers, in dependency order: cudnn/init.lua
-- requires 'cudnn.<name>' for each. Each inherits its nn twin (cudnn.SpatialDilated-
-- Convolution inherits cudnn.SpatialConvolution, the softmaxes cudnn.SpatialSoftMax,
-- as in cudnn.torch) and runs on the CPU. cudnn.SpatialSoftMax honours `mode` and
-- `algorithm`, so other cudnn softmax classes may inherit it too.
return {
   'SpatialConvolution',
   'SpatialDilatedConvolution',
   'SpatialFullConvolution',
   'VolumetricConvolution',
   'VolumetricFullConvolution',
   'SpatialMaxPooling',
   'SpatialAveragePooling',
   'VolumetricMaxPooling',
   'VolumetricAveragePooling',
   'SpatialBatchNormalization',
   'VolumetricBatchNormalization',
   'SpatialCrossMapLRN',
   'SpatialSoftMax',
   'SpatialLogSoftMax',
   'VolumetricSoftMax',
   'VolumetricLogSoftMax',
}
