-- cudnn.ClippedReLU: y = min(max(0, x), ceiling).
local pointwise = require('nn.pointwise')
local schema = require('nn.schema')
local ClippedReLU, parent = torch.class('cudnn.ClippedReLU', 'nn.Module')

schema.declare(ClippedReLU, {
   {'ceiling', 'number'}, {'inplace', 'boolean?'},
})

function ClippedReLU:__init(ceiling, inplace)
   parent.__init(self)
   if type(ceiling) ~= 'number' then
      error('<cudnn.ClippedReLU> usage: cudnn.ClippedReLU(ceiling[, inplace])', 2)
   end
   self.ceiling = ceiling
   self.inplace = inplace or false
end

function ClippedReLU:updateOutput(input)
   local y, x, n, back = pointwise.begin(self, input, 'cudnn.ClippedReLU')
   local c = self.ceiling
   for i = 0, n - 1 do
      local v = x[i]
      if v < 0 then v = 0 elseif v > c then v = c end
      y[i] = v
   end
   return pointwise.finish(self, input, back)
end

return ClippedReLU
