local schema = require('nn.schema')
local SpatialConvolution, parent =
   torch.class('cudnn.SpatialConvolution', 'nn.SpatialConvolution')

schema.inherited(SpatialConvolution, "nn.SpatialConvolution's fields (groups included)")

-- cudnn's convolution adds `groups`: the planes split into `groups` equal blocks, and
-- output block g sees input block g only. Weight nOutputPlane x nInputPlane/groups x
-- kH x kW (older cudnn.torch files may hold the same values in another shape; only
-- their order matters).
function SpatialConvolution:__init(nInputPlane, nOutputPlane, kW, kH, dW, dH, padW, padH, groups)
   self.groups = groups or 1
   if nInputPlane % self.groups ~= 0 then
      error('<cudnn.SpatialConvolution> nInputPlane should be divisible by nGroups', 2)
   end
   if nOutputPlane % self.groups ~= 0 then
      error('<cudnn.SpatialConvolution> nOutputPlane should be divisible by nGroups', 2)
   end
   parent.__init(self, nInputPlane, nOutputPlane, kW, kH, dW, dH, padW or 0, padH or 0)
   self.weight = torch.Tensor(nOutputPlane, nInputPlane / self.groups, kH, kW)
   self.gradWeight = torch.Tensor(nOutputPlane, nInputPlane / self.groups, kH, kW)
   self:reset()
end

function SpatialConvolution:backCompatibility()
   self.groups = self.groups or 1
   parent.backCompatibility(self)
end

-- GPU-only state that cudnn.torch kept on the module; nothing to do on the CPU.
function SpatialConvolution:resetWeightDescriptors() return self end
function SpatialConvolution:fastest() return self end
function SpatialConvolution:setMode() return self end
function SpatialConvolution:resetMode() return self end
function SpatialConvolution:clearDesc() return self end
