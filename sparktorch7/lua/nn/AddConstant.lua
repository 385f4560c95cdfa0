-- nn.AddConstant: y = x + constant_scalar.
local pointwise = require('nn.pointwise')
local schema = require('nn.schema')
local AddConstant, parent = torch.class('nn.AddConstant', 'nn.Module')

schema.declare(AddConstant, {
   {'constant_scalar', 'number'}, {'inplace', 'boolean?'},
})

function AddConstant:__init(constant_scalar, ip)
   parent.__init(self)
   if type(constant_scalar) ~= 'number' then
      error('<nn.AddConstant> usage: nn.AddConstant(scalar[, inplace])', 2)
   end
   self.constant_scalar = constant_scalar
   self.inplace = ip or false
end

function AddConstant:updateOutput(input)
   local y, x, n, back = pointwise.begin(self, input, 'nn.AddConstant')
   local c = self.constant_scalar
   for i = 0, n - 1 do
      y[i] = x[i] + c
   end
   return pointwise.finish(self, input, back)
end

return AddConstant
