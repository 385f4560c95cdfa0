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

-- With y = a sigmoid(b): dE/da = dE/dy sigmoid(b), dE/db = dE/dy a sigmoid(b) (1 - sigmoid(b))
function GatedLinearUnit:updateGradInput(input, gradOutput)
   local dim = self.dim or input:dim()
   local half = input:size(dim) / 2
   if not torch.isTensor(gradOutput) or gradOutput:nElement() * 2 ~= input:nElement() then
      error('<nn.GatedLinearUnit> gradOutput must be a tensor of half the input\'s elements: '
            .. 'run forward on this input first', 2)
   end
   if not torch.isTensor(self.gradInput) or torch.type(self.gradInput) ~= torch.type(input)
         or self.gradInput == input or self.gradInput == gradOutput then
      self.gradInput = nn.utils.newLike(input)
   end
   local gi = self.gradInput:resizeAs(input)
   local a = pointwise.contiguous(input:narrow(dim, 1, half))
   local b = pointwise.contiguous(input:narrow(dim, half + 1, half))
   local ga, gb = nn.utils.newLike(input):resizeAs(a), nn.utils.newLike(input):resizeAs(b)
   local ap, bp, gap, gbp = a:data(), b:data(), ga:data(), gb:data()
   local go = pointwise.contiguous(gradOutput):data()
   local exp = math.exp
   for i = 0, a:nElement() - 1 do
      local s = 1 / (1 + exp(-bp[i]))
      gap[i] = go[i] * s
      gbp[i] = go[i] * ap[i] * s * (1 - s)
   end
   gi:narrow(dim, 1, half):copy(ga)
   gi:narrow(dim, half + 1, half):copy(gb)
   return gi
end

return GatedLinearUnit
