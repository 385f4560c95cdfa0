local schema = require('nn.schema')
local VolumetricAveragePooling, parent =
   torch.class('cudnn.VolumetricAveragePooling', 'nn.VolumetricAveragePooling')

schema.inherited(VolumetricAveragePooling, "nn.VolumetricAveragePooling's fields")

-- cudnn sizes the output without dropping a last window that starts in the padding,
-- counts the padding in the average and has no limit on the padding width.
VolumetricAveragePooling._clampLast = false
VolumetricAveragePooling._checkPad = false

function VolumetricAveragePooling:__init(kT, kW, kH, dT, dW, dH, padT, padW, padH)
   parent.__init(self, kT, kW, kH, dT, dW, dH, padT, padW, padH)
   self.mode = 'CUDNN_POOLING_AVERAGE_COUNT_INCLUDE_PADDING'
end

function VolumetricAveragePooling:clearDesc() return self end
