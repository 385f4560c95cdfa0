local schema = require('nn.schema')
local VolumetricFullConvolution, parent =
   torch.class('cudnn.VolumetricFullConvolution', 'nn.VolumetricFullConvolution')

schema.inherited(VolumetricFullConvolution, "nn.VolumetricFullConvolution's fields")

-- Same fields and weight layout (nInputPlane x nOutputPlane x kT x kH x kW) as nn's.
function VolumetricFullConvolution:resetWeightDescriptors() return self end
function VolumetricFullConvolution:fastest() return self end
function VolumetricFullConvolution:setMode() return self end
function VolumetricFullConvolution:resetMode() return self end
function VolumetricFullConvolution:clearDesc() return self end
