-- nn.MulConstant: y = x * constant_scalar.
local pointwise = require('nn.pointwise')
local schema = require('nn.schema')
local MulConstant, parent = torch.class('nn.MulConstant', 'nn.Module')

schema.declare(MulConstant, {
   {'constant_scalar', 'number'}, {'inplace', 'boolean?'},
})

function MulConstant:__init(constant_scalar, ip)
   parent.__init(self)
   if type(constant_scalar) ~= 'number' then
      error('<nn.MulConstant> usage: nn.MulConstant(scalar[, inplace])', 2)
   end
   self.constant_scalar = constant_scalar
   self.inplace = ip or false
end

function MulConstant:updateOutput(input)
   local y, x, n, back = pointwise.begin(self, input, 'nn.MulConstant')
   local c = self.constant_scalar
   for i = 0, n - 1 do
      y[i] = x[i] * c
   end
   return pointwise.finish(self, input, back)
end

return MulConstant
