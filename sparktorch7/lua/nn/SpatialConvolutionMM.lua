local schema = require('nn.schema')
local SpatialConvolutionMM, parent = torch.class('nn.SpatialConvolutionMM', 'nn.Module')

schema.like(SpatialConvolutionMM, nn.SpatialConvolution, "nn.SpatialConvolution's fields (it runs its forward)")
local ops = require 'nn.spatial_ops'

-- Same computation as nn.SpatialConvolution (Torch7 kept both names: MM was the
-- unfold + matrix-multiply implementation); older files hold a 2-D weight.
function SpatialConvolutionMM:__init(nInputPlane, nOutputPlane, kW, kH, dW, dH, padW, padH)
   nn.SpatialConvolution.__init(self, nInputPlane, nOutputPlane, kW, kH, dW, dH, padW, padH)
end

SpatialConvolutionMM.noBias = nn.SpatialConvolution.noBias
SpatialConvolutionMM.reset = nn.SpatialConvolution.reset
SpatialConvolutionMM.backCompatibility = nn.SpatialConvolution.backCompatibility
SpatialConvolutionMM._dilation = nn.SpatialConvolution._dilation
SpatialConvolutionMM.updateOutput = nn.SpatialConvolution.updateOutput
SpatialConvolutionMM.updateGradInput = nn.SpatialConvolution.updateGradInput
SpatialConvolutionMM.accGradParameters = nn.SpatialConvolution.accGradParameters
SpatialConvolutionMM.__tostring__ = nn.SpatialConvolution.__tostring__
