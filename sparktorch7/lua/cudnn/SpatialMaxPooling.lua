local schema = require('nn.schema')
local SpatialMaxPooling, parent = torch.class('cudnn.SpatialMaxPooling', 'nn.SpatialMaxPooling')

schema.declare(SpatialMaxPooling, {
   {'mode', 'string?'},
})

-- cudnn sizes the output as floor/ceil((in + 2*pad - k) / d) + 1 and never drops a
-- last window that starts in the padding.
SpatialMaxPooling._clampLast = false
SpatialMaxPooling._checkPad = false

function SpatialMaxPooling:__init(kW, kH, dW, dH, padW, padH)
   parent.__init(self, kW, kH, dW, dH, padW, padH)
   self.mode = 'CUDNN_POOLING_MAX'
end

function SpatialMaxPooling:clearDesc() return self end
