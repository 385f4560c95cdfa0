local schema = require('nn.schema')
local Pointwise, parent = torch.class('cudnn._Pointwise', 'nn.Module')

schema.declare(Pointwise, {
   {'inplace', 'boolean?'}, {'ceiling', 'number?'},
   {'mode', 'string?', check = schema.oneOf('CUDNN_ACTIVATION_RELU', 'CUDNN_ACTIVATION_SIGMOID',
      'CUDNN_ACTIVATION_TANH', 'CUDNN_ACTIVATION_CLIPPED_RELU')},
})

-- cudnn.torch's base of its activations: self.mode (set by a subclass) chooses the
-- function, run as cudnn.ReLU, cudnn.Sigmoid, cudnn.Tanh or cudnn.ClippedReLU (ceiling).
function Pointwise:__init(inplace)
   parent.__init(self)
   self.inplace = inplace or false
end

local MODES = {
   CUDNN_ACTIVATION_RELU = 'cudnn.ReLU', CUDNN_ACTIVATION_SIGMOID = 'cudnn.Sigmoid',
   CUDNN_ACTIVATION_TANH = 'cudnn.Tanh', CUDNN_ACTIVATION_CLIPPED_RELU = 'cudnn.ClippedReLU',
}

require('cudnn.delegate').install(Pointwise, function(self)
   local name = MODES[self.mode]
   if name == 'cudnn.ClippedReLU' then
      return name, {self.ceiling or 0, self.inplace}
   end
   return name, {self.inplace}
end)
