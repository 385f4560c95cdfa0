local schema = require('nn.schema')
local Pooling = torch.class('cudnn._Pooling', 'nn.Module')

schema.declare(Pooling, {
   {'kW', 'posint'}, {'kH', 'posint'}, {'dW', 'posint'}, {'dH', 'posint'},
   {'padW', 'natural?'}, {'padH', 'natural?'}, {'ceil_mode', 'boolean?'},
   {'mode', 'string?', check = schema.oneOf('CUDNN_POOLING_MAX', 'CUDNN_POOLING_AVERAGE',
      'CUDNN_POOLING_AVERAGE_COUNT_INCLUDE_PADDING', 'CUDNN_POOLING_AVERAGE_COUNT_EXCLUDE_PADDING')},
   {'iSize', 'longstorage?'},
})

-- cudnn.torch's base of its 2-D poolings: self.mode (set by a subclass) chooses max or
-- average pooling (padding counted or not), run as cudnn.SpatialMaxPooling or
-- cudnn.SpatialAveragePooling, which sparktorch7's cudnn classes are.
function Pooling:__init(kW, kH, dW, dH, padW, padH)
   nn.SpatialMaxPooling.__init(self, kW, kH, dW, dH, padW, padH)
   self.indices = nil
   self.iSize = torch.LongStorage(4):fill(0)
end

function Pooling:ceil()
   self.ceil_mode = true
   return self
end

function Pooling:floor()
   self.ceil_mode = false
   return self
end

local delegate = require('cudnn.delegate')

delegate.install(Pooling, function(self)
   delegate.checkPadding(self, {'W', 'H'})
   local name = self.mode == 'CUDNN_POOLING_MAX' and 'cudnn.SpatialMaxPooling'
                or (self.mode or ''):find('^CUDNN_POOLING_AVERAGE') and 'cudnn.SpatialAveragePooling'
   return name, {self.kW, self.kH, self.dW, self.dH, self.padW, self.padH},
          {count_include_pad = self.mode ~= 'CUDNN_POOLING_AVERAGE_COUNT_EXCLUDE_PADDING'}
end)
