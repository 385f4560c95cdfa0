local schema = require('nn.schema')
local SpatialAveragePooling, parent =
   torch.class('cudnn.SpatialAveragePooling', 'nn.SpatialAveragePooling')

schema.inherited(SpatialAveragePooling, "nn.SpatialAveragePooling's fields")

SpatialAveragePooling._clampLast = false
SpatialAveragePooling._checkPad = false

-- cudnn's pooling classes default the stride to the kernel size.
function SpatialAveragePooling:__init(kW, kH, dW, dH, padW, padH)
   parent.__init(self, kW, kH, dW or kW, dH or kH, padW, padH)
   self.mode = 'CUDNN_POOLING_AVERAGE_COUNT_INCLUDE_PADDING'
end

function SpatialAveragePooling:backCompatibility()
   parent.backCompatibility(self)
   if self.mode == 'CUDNN_POOLING_AVERAGE_COUNT_EXCLUDE_PADDING' then
      self.count_include_pad = false
   end
   if self.divide == nil then self.divide = true end
end

function SpatialAveragePooling:clearDesc() return self end
