-- nn.SpatialDropout: in evaluation y = (1 - p) x; in training whole channels are
-- dropped: each feature map (dimension 2 of a 4D batch, 1 of a 3D sample) is kept with probability 1 - p.
local schema = require('nn.schema')
local SpatialDropout, parent = torch.class('nn.SpatialDropout', 'nn.Module')

schema.declare(SpatialDropout, {
   {'p', 'number?', min = 0, max = 1},
})

require('nn.channel_dropout')(SpatialDropout, parent, 'nn.SpatialDropout', 4)

return SpatialDropout
