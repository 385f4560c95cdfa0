local schema = require('nn.schema')
local VolumetricConvolution, parent =
   torch.class('cudnn.VolumetricConvolution', 'nn.VolumetricConvolution')

schema.inherited(VolumetricConvolution, "nn.VolumetricConvolution's fields (groups included)")

-- Same fields as nn's; cudnn.torch files may also carry `groups`.
function VolumetricConvolution:backCompatibility()
   self.groups = self.groups or 1
   parent.backCompatibility(self)
end

function VolumetricConvolution:resetWeightDescriptors() return self end
function VolumetricConvolution:fastest() return self end
function VolumetricConvolution:setMode() return self end
function VolumetricConvolution:resetMode() return self end
function VolumetricConvolution:clearDesc() return self end
