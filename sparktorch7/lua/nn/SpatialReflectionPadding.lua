local schema = require('nn.schema')
local SpatialReflectionPadding, parent = torch.class('nn.SpatialReflectionPadding', 'nn.Module')

schema.declare(SpatialReflectionPadding, {
   {'pad_l', 'int'}, {'pad_r', 'int'}, {'pad_t', 'int'}, {'pad_b', 'int'},
})

-- Like nn.SpatialZeroPadding, but mirrors the border (the edge itself is not repeated).
function SpatialReflectionPadding:__init(pad_l, pad_r, pad_t, pad_b)
   nn.SpatialZeroPadding.__init(self, pad_l, pad_r, pad_t, pad_b)
end

SpatialReflectionPadding._mode = 'reflect'
SpatialReflectionPadding.updateOutput = nn.SpatialZeroPadding.updateOutput
SpatialReflectionPadding.__tostring__ = nn.SpatialZeroPadding.__tostring__
SpatialReflectionPadding.updateGradInput = nn.SpatialZeroPadding.updateGradInput
SpatialReflectionPadding.accGradParameters = nn.SpatialZeroPadding.accGradParameters
