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

-- dE/dx = constant_scalar dE/dy; in place it is written over gradOutput and the input,
-- which forward scaled, gets its values back.
function MulConstant:updateGradInput(input, gradOutput)
   local gi, go, n, back = pointwise.beginGrad(self, input, gradOutput, 'nn.MulConstant')
   local c = self.constant_scalar
   for i = 0, n - 1 do
      gi[i] = go[i] * c
   end
   if self.inplace then
      input:div(c)
   end
   return pointwise.finishGrad(self, gradOutput, back)
end

return MulConstant
