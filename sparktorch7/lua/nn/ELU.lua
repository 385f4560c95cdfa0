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

-- dE/dx = dE/dy where y > 0, else dE/dy (y + alpha) (= dE/dy alpha exp(x)); in place
-- the gradient is written over gradOutput, as THNN does.
function ELU:updateGradInput(input, gradOutput)
   local gi, go, n, back = pointwise.beginGrad(self, input, gradOutput, 'nn.ELU')
   local y = pointwise.outputData(self, n, 'nn.ELU')
   local a = self.alpha
   for i = 0, n - 1 do
      local v = y[i]
      if v <= 0 then gi[i] = go[i] * (v + a) else gi[i] = go[i] end
   end
   return pointwise.finishGrad(self, gradOutput, back)
end

return ELU
