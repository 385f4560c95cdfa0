local schema = require('nn.schema')
local Pooling3D = torch.class('cudnn._Pooling3D', 'nn.Module')

schema.declare(Pooling3D, {
   {'kT', 'posint'}, {'kW', 'posint'}, {'kH', 'posint'},
   {'dT', 'posint'}, {'dW', 'posint'}, {'dH', 'posint'},
   {'padT', 'natural?'}, {'padW', 'natural?'}, {'padH', 'natural?'}, {'ceil_mode', 'boolean?'},
   {'mode', 'string?', check = schema.oneOf('CUDNN_POOLING_MAX', 'CUDNN_POOLING_AVERAGE',
      'CUDNN_POOLING_AVERAGE_COUNT_INCLUDE_PADDING', 'CUDNN_POOLING_AVERAGE_COUNT_EXCLUDE_PADDING')},
   {'iSize', 'longstorage?'},
})

-- cudnn.torch's base of its 3-D poolings: self.mode (set by a subclass) chooses max or
-- average pooling, run as cudnn.VolumetricMaxPooling or cudnn.VolumetricAveragePooling.
function Pooling3D:__init(kT, kW, kH, dT, dW, dH, padT, padW, padH)
   nn.VolumetricMaxPooling.__init(self, kT, kW, kH, dT, dW, dH, padT, padW, padH)
   self.indices = nil
   self.iSize = torch.LongStorage(5):fill(0)
end

Pooling3D.ceil = cudnn._Pooling.ceil
Pooling3D.floor = cudnn._Pooling.floor

local delegate = require('cudnn.delegate')

delegate.install(Pooling3D, function(self)
   delegate.checkPadding(self, {'T', 'W', 'H'})
   local name = self.mode == 'CUDNN_POOLING_MAX' and 'cudnn.VolumetricMaxPooling'
                or (self.mode or ''):find('^CUDNN_POOLING_AVERAGE') and 'cudnn.VolumetricAveragePooling'
   return name, {self.kT, self.kW, self.kH, self.dT, self.dW, self.dH, self.padT, self.padW, self.padH},
          {count_include_pad = self.mode ~= 'CUDNN_POOLING_AVERAGE_COUNT_EXCLUDE_PADDING'}
end)
