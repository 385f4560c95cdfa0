local schema = require('nn.schema')
local VolumetricMaxPooling, parent =
   torch.class('cudnn.VolumetricMaxPooling', 'nn.VolumetricMaxPooling')

schema.inherited(VolumetricMaxPooling, "nn.VolumetricMaxPooling's fields")

VolumetricMaxPooling._clampLast = false
VolumetricMaxPooling._checkPad = false

function VolumetricMaxPooling:__init(kT, kW, kH, dT, dW, dH, padT, padW, padH)
   parent.__init(self, kT, kW, kH, dT, dW, dH, padT, padW, padH)
   self.mode = 'CUDNN_POOLING_MAX'
end

function VolumetricMaxPooling:clearDesc() return self end
