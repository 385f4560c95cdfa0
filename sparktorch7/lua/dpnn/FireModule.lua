-- nn.FireModule(nInputPlane, s1x1, e1x1, e3x3, activation): SqueezeNet's
-- fire module, a 1x1 squeeze convolution then 1x1 and 3x3 expand
-- convolutions concatenated over channels, each followed by the activation.
local schema = require('nn.schema')
local FireModule, parent = torch.class('nn.FireModule', 'nn.Decorator')

schema.declare(FireModule, {
   {'nInputPlane', 'posint?'}, {'s1x1', 'posint?'}, {'e1x1', 'posint?'}, {'e3x3', 'posint?'},
   {'activation', 'string?'},
   {'squeeze', 'module?'}, {'expand', 'module?'},
})

function FireModule:__init(nInputPlane, s1x1, e1x1, e3x3, activation)
   self.nInputPlane = nInputPlane
   self.s1x1 = s1x1
   self.e1x1 = e1x1
   self.e3x3 = e3x3
   self.activation = activation or 'ReLU'
   if not nn[self.activation] then
      error('<nn.FireModule> unknown activation nn.' .. tostring(self.activation), 2)
   end
   self.module = nn.Sequential()
   self.squeeze = nn.SpatialConvolution(nInputPlane, s1x1, 1, 1)
   self.expand = nn.Concat(2)
   self.expand:add(nn.SpatialConvolution(s1x1, e1x1, 1, 1))
   self.expand:add(nn.SpatialConvolution(s1x1, e3x3, 3, 3, 1, 1, 1, 1))
   self.module:add(self.squeeze)
   self.module:add(nn[self.activation]())
   self.module:add(self.expand)
   self.module:add(nn[self.activation]())
   parent.__init(self, self.module)
end

function FireModule:__tostring__()
   return string.format('%s inputPlanes: %d -> Squeeze Planes: %d -> Expand: %d(1x1) + %d(3x3), activation: %s',
                        torch.type(self), self.nInputPlane, self.s1x1, self.e1x1, self.e3x3, self.activation)
end

return FireModule
