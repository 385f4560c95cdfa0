-- The stn package of sparktorch7 (qassemoquab/stnbhwd, spatial transformer networks in
-- BHWD layout): `require 'stn'`. Its three module classes, registered under nn as stnbhwd
-- did; like stnbhwd, require returns nn.
require('nn')

require('stn.AffineTransformMatrixGenerator')
require('stn.AffineGridGeneratorBHWD')
require('stn.BilinearSamplerBHWD')

return nn
