-- The nnx package of sparktorch7 (clementfarabet/lua---nnx): `require 'nnx'`.
-- The image resampling and normalisation modules old models hold, registered
-- under nn as nnx did.
require('nn')

nnx = nnx or {}

require('nnx.SpatialPadding')
require('nnx.SpatialReSampling')
require('nnx.SpatialReSamplingEx')
require('nnx.SpatialDownSampling')
require('nnx.SpatialUpSampling')
require('nnx.SpatialNormalization')

return nnx
