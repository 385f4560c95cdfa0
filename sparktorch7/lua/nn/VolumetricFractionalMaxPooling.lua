local schema = require('nn.schema')
local VolumetricFractionalMaxPooling, parent =
   torch.class('nn.VolumetricFractionalMaxPooling', 'nn.Module')

schema.declare(VolumetricFractionalMaxPooling, {
   {'poolSizeT', 'posint', min = 2}, {'poolSizeW', 'posint', min = 2}, {'poolSizeH', 'posint', min = 2},
   {'outT', 'posint?'}, {'outW', 'posint?'}, {'outH', 'posint?'},
   {'ratioT', 'number?', min = 0, max = 1}, {'ratioW', 'number?', min = 0, max = 1},
   {'ratioH', 'number?', min = 0, max = 1},
   {'newRandomPool', 'boolean?'},
   {'randomSamples', 'tensor?'}, {'indices', 'tensor?'},
})
local fractional = require 'nn.fractional'

-- nn.SpatialFractionalMaxPooling in three dimensions. As in Torch7 the volume is laid out
-- planes x H x W x T (time last) and the samples (batch x planes x 3) are T, W, H; the
-- output is outH x outW x outT, or floor(ratio * input size) along each axis.
local AXES = {'T', 'W', 'H'}

fractional.install(VolumetricFractionalMaxPooling, parent, AXES)
