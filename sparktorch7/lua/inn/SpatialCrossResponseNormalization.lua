-- inn.SpatialCrossResponseNormalization(size, alpha, beta, k): local response
-- normalisation across channels, nn.SpatialCrossMapLRN under inn's name.
local schema = require('nn.schema')
local SpatialCrossResponseNormalization = torch.class('inn.SpatialCrossResponseNormalization',
                                                      'nn.SpatialCrossMapLRN')

schema.inherited(SpatialCrossResponseNormalization, "nn.SpatialCrossMapLRN's fields")

return SpatialCrossResponseNormalization
