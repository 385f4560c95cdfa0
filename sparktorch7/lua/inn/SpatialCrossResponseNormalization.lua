-- inn.SpatialCrossResponseNormalization(size, alpha, beta, k): local response
-- normalisation across channels, nn.SpatialCrossMapLRN under inn's name.
local SpatialCrossResponseNormalization = torch.class('inn.SpatialCrossResponseNormalization',
                                                      'nn.SpatialCrossMapLRN')

return SpatialCrossResponseNormalization
