-- nn.ELU: y = x if x > 0, else alpha * (exp(x) - 1).
local pointwise = require('nn.pointwise')
local schema = require('nn.schema')
local ELU, parent = torch.class('nn.ELU', 'nn.Module')

schema.declare(ELU, {
   {'alpha', 'number'}, {'inplace', 'boolean?'},
})
local exp = math.exp

function ELU:__init(alpha, inplace)
   parent.__init(self)
   self.alpha = alpha or 1
   self.inplace = inplace or false
end

function ELU:updateOutput(input)
   local y, x, n, back = pointwise.begin(self, input, 'nn.ELU')
   local a = self.alpha
   for i = 0, n - 1 do
      local v = x[i]
      if v > 0 then y[i] = v else y[i] = a * (exp(v) - 1) end
   end
   return pointwise.finish(self, input, back)
end

function ELU:__tostring__()
   return string.format('%s (alpha:%f)', torch.type(self), self.alpha)
end

return ELU
