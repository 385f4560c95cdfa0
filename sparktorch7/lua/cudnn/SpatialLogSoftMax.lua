local schema = require('nn.schema')
local SpatialLogSoftMax, parent = torch.class('cudnn.SpatialLogSoftMax', 'cudnn.SpatialSoftMax')

schema.inherited(SpatialLogSoftMax, "cudnn.SpatialSoftMax's fields")

-- Log-softmax over the planes at each pixel.
function SpatialLogSoftMax:__init(fast)
   parent.__init(self, fast)
   self.mode = 'CUDNN_SOFTMAX_MODE_CHANNEL'
   self.algorithm = 'CUDNN_SOFTMAX_LOG'
end
