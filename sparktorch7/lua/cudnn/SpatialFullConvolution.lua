local schema = require('nn.schema')
local SpatialFullConvolution, parent =
   torch.class('cudnn.SpatialFullConvolution', 'nn.SpatialFullConvolution')

schema.inherited(SpatialFullConvolution, "nn.SpatialFullConvolution's fields")

-- Same fields and weight layout (nInputPlane x nOutputPlane x kH x kW) as nn's.
function SpatialFullConvolution:resetWeightDescriptors() return self end
function SpatialFullConvolution:fastest() return self end
function SpatialFullConvolution:setMode() return self end
function SpatialFullConvolution:resetMode() return self end
function SpatialFullConvolution:clearDesc() return self end
