-- The nnx package of sparktorch7 (clementfarabet/lua---nnx): `require 'nnx'`.
-- The modules old models hold (image resampling, normalisation, spatial classifiers,
-- colour transforms, table plumbing, ...), registered under nn as nnx did.
require('nn')
-- as nnx did: scripts that require nnx use the global xlua (xlua.progress, ...)
require('xlua')

nnx = nnx or {}

require('nnx.Probe')
require('nnx.Tic')
require('nnx.Toc')

require('nnx.SpatialLinear')
require('nnx.SpatialClassifier')
require('nnx.SpatialPadding')
require('nnx.SpatialReSampling')
require('nnx.SpatialReSamplingEx')
require('nnx.SpatialDownSampling')
require('nnx.SpatialUpSampling')
require('nnx.SpatialNormalization')
require('nnx.SpatialFovea')
require('nnx.SpatialPyramid')
require('nnx.SpatialMaxSampling')
require('nnx.SpatialColorTransform')
require('nnx.PixelSort')
require('nnx.SpatialMatching')
require('nnx.SpatialRadialMatching')
require('nnx.SpatialGraph')

require('nnx.FunctionWrapper')
require('nnx.SaturatedLU')
require('nnx.Minus')
require('nnx.MultiSoftMax')
require('nnx.Balance')
require('nnx.PushTable')
require('nnx.PullTable')
require('nnx.SoftMaxTree')
require('nnx.QDRiemaNNLinear')

require('nnx.SuperCriterion')
require('nnx.DistNLLCriterion')
require('nnx.DistMarginCriterion')
require('nnx.TreeNLLCriterion')

return nnx
