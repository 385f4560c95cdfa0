local schema = require('nn.schema')
local VolumetricLogSoftMax, parent = torch.class('cudnn.VolumetricLogSoftMax', 'nn.Module')

schema.declare(VolumetricLogSoftMax, {
   {'ssm', 'module?'},
})

-- Log-softmax over the planes at each voxel of a (C, T, H, W) volume or an
-- (N, C, T, H, W) batch. cudnn.torch delegated to a cudnn.Spatial*SoftMax kept in
-- self.ssm; a saved ssm's algorithm is honoured.
function VolumetricLogSoftMax:__init(fast)
   parent.__init(self)
   self.ssm = cudnn.SpatialLogSoftMax(fast)
end

-- forward and backward are cudnn.VolumetricSoftMax's, taking the log
VolumetricLogSoftMax._log = true
VolumetricLogSoftMax.updateOutput = cudnn.VolumetricSoftMax.updateOutput
VolumetricLogSoftMax.updateGradInput = cudnn.VolumetricSoftMax.updateGradInput
