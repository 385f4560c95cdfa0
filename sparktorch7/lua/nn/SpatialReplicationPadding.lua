local schema = require('nn.schema')
local SpatialReplicationPadding, parent = torch.class('nn.SpatialReplicationPadding', 'nn.Module')

schema.declare(SpatialReplicationPadding, {
   {'pad_l', 'int'}, {'pad_r', 'int'}, {'pad_t', 'int'}, {'pad_b', 'int'},
})

-- Like nn.SpatialZeroPadding, but repeats the edge pixels.
function SpatialReplicationPadding:__init(pad_l, pad_r, pad_t, pad_b)
   nn.SpatialZeroPadding.__init(self, pad_l, pad_r, pad_t, pad_b)
end

SpatialReplicationPadding._mode = 'edge'
SpatialReplicationPadding.updateOutput = nn.SpatialZeroPadding.updateOutput
SpatialReplicationPadding.__tostring__ = nn.SpatialZeroPadding.__tostring__
SpatialReplicationPadding.updateGradInput = nn.SpatialZeroPadding.updateGradInput
SpatialReplicationPadding.accGradParameters = nn.SpatialZeroPadding.accGradParameters
