local schema = require('nn.schema')
local SpatialFractionalMaxPooling, parent =
   torch.class('nn.SpatialFractionalMaxPooling', 'nn.Module')

schema.declare(SpatialFractionalMaxPooling, {
   {'poolSizeW', 'posint', min = 2}, {'poolSizeH', 'posint', min = 2},
   {'outW', 'posint?'}, {'outH', 'posint?'},
   {'ratioW', 'number?', min = 0, max = 1}, {'ratioH', 'number?', min = 0, max = 1},
   {'newRandomPool', 'boolean?'},
   {'randomSamples', 'tensor?'}, {'indices', 'tensor?'},
})
local fractional = require 'nn.fractional'

-- Fractional max pooling (Graham, 2014): poolSizeW x poolSizeH windows at pseudo-random
-- overlapping places, drawn per plane from self.randomSamples (batch x planes x 2: W,
-- H), so that the output is outW x outH, or floor(ratio * input size) for ratios in
-- (0, 1). New samples are drawn on each forward unless :fixPoolingRegions() (then set
-- self.randomSamples to choose the windows).
local AXES = {'W', 'H'}

fractional.install(SpatialFractionalMaxPooling, parent, AXES)
