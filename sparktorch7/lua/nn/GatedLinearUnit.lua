-- nn.GatedLinearUnit: splits the input in two halves a, b along dim (the last
-- one by default) and gives a * sigmoid(b).
local pointwise = require('nn.pointwise')
local kernels = require('nn.kernels')
local schema = require('nn.schema')
local GatedLinearUnit, parent = torch.class('nn.GatedLinearUnit', 'nn.Module')

schema.declare(GatedLinearUnit, {
   {'dim', 'int?'},
})

function GatedLinearUnit:__init(dim)
   parent.__init(self)
   self.dim = dim
end

function GatedLinearUnit:updateOutput(input)
   local dim = self.dim or input:dim()
   local size = input:size(dim)
   if size % 2 ~= 0 then
      error(string.format('<nn.GatedLinearUnit> dimension %d has an odd size (%d)', dim, size), 2)
   end
   local half = size / 2
   local a = pointwise.contiguous(input:narrow(dim, 1, half))
   local b = pointwise.contiguous(input:narrow(dim, half + 1, half))
   local out = kernels.output(self, input, a:size())
   local ap, bp, yp = a:data(), b:data(), out:data()
   local exp = math.exp
   for i = 0, a:nElement() - 1 do
      yp[i] = ap[i] / (1 + exp(-bp[i]))
   end
   return out
end

return GatedLinearUnit
