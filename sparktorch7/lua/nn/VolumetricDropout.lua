-- nn.VolumetricDropout: in evaluation y = (1 - p) x; in training whole channels are
-- dropped: each feature volume (dimension 2 of a 5D batch, 1 of a 4D sample) is kept with probability 1 - p.
local schema = require('nn.schema')
local VolumetricDropout, parent = torch.class('nn.VolumetricDropout', 'nn.Module')

schema.declare(VolumetricDropout, {
   {'p', 'number?', min = 0, max = 1},
})

require('nn.channel_dropout')(VolumetricDropout, parent, 'nn.VolumetricDropout', 5)

return VolumetricDropout
