-- The inn package of sparktorch7 (szagoruyko/imagine-nn): `require 'inn'`.
-- Its module classes run on the CPU with the semantics of inn's CUDA kernels.
require('nn')

inn = inn or {}

require('inn.SpatialMaxPooling')
require('inn.SpatialAveragePooling')
require('inn.SpatialStochasticPooling')
require('inn.SpatialCrossResponseNormalization')
require('inn.MeanSubtraction')
require('inn.SpatialPyramidPooling')
require('inn.SpatialSameResponseNormalization')
require('inn.ROIPooling')
require('inn.ConstAffine')

return inn
