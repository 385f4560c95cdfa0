-- nn.LeakyReLU: y = x if x > 0, else negval * x.
local pointwise = require('nn.pointwise')
local schema = require('nn.schema')
local LeakyReLU, parent = torch.class('nn.LeakyReLU', 'nn.Module')

schema.declare(LeakyReLU, {
   {'negval', 'number'}, {'inplace', 'boolean?'},
})

function LeakyReLU:__init(negval, ip)
   parent.__init(self)
   if negval and type(negval) ~= 'number' then
      error('<nn.LeakyReLU> usage: nn.LeakyReLU(negval[, inplace])', 2)
   end
   self.negval = negval or 1 / 100
   self.inplace = ip or false
end

function LeakyReLU:updateOutput(input)
   local y, x, n, back = pointwise.begin(self, input, 'nn.LeakyReLU')
   local a = self.negval
   for i = 0, n - 1 do
      local v = x[i]
      if v > 0 then y[i] = v else y[i] = v * a end
   end
   return pointwise.finish(self, input, back)
end

-- dE/dx = dE/dy where x > 0, else negval dE/dy (in place: over gradOutput; the input then
-- holds the output, which has the input's sign)
function LeakyReLU:updateGradInput(input, gradOutput)
   local gi, go, n, back = pointwise.beginGrad(self, input, gradOutput, 'nn.LeakyReLU')
   local x = pointwise.contiguous(input):data()
   local a = self.negval
   for i = 0, n - 1 do
      if x[i] > 0 then gi[i] = go[i] else gi[i] = go[i] * a end
   end
   return pointwise.finishGrad(self, gradOutput, back)
end

return LeakyReLU
