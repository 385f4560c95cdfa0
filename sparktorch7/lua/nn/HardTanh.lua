-- nn.HardTanh: y = x clamped to [min_val, max_val].
local pointwise = require('nn.pointwise')
local schema = require('nn.schema')
local HardTanh, parent = torch.class('nn.HardTanh', 'nn.Module')

schema.declare(HardTanh, {
   {'min_val', 'number?'}, {'max_val', 'number?'}, {'inplace', 'boolean?'},
})

function HardTanh:__init(min_value, max_value, inplace)
   parent.__init(self)
   self.min_val = min_value or -1
   self.max_val = max_value or 1
   self.inplace = inplace or false
   if self.max_val <= self.min_val then
      error('<nn.HardTanh> max_value must be larger than min_value', 2)
   end
end

function HardTanh:updateOutput(input)
   local y, x, n, back = pointwise.begin(self, input, torch.type(self))
   local lo, hi = self.min_val or -1, self.max_val or 1
   for i = 0, n - 1 do
      local v = x[i]
      if v < lo then v = lo elseif v > hi then v = hi end
      y[i] = v
   end
   return pointwise.finish(self, input, back)
end

-- dE/dx = dE/dy strictly inside (min_val, max_val), else 0 (in place: over gradOutput;
-- the clamped input gives the same answer)
function HardTanh:updateGradInput(input, gradOutput)
   local gi, go, n, back = pointwise.beginGrad(self, input, gradOutput, torch.type(self))
   local x = pointwise.contiguous(input):data()
   local lo, hi = self.min_val or -1, self.max_val or 1
   for i = 0, n - 1 do
      local v = x[i]
      if v <= lo or v >= hi then gi[i] = 0 else gi[i] = go[i] end
   end
   return pointwise.finishGrad(self, gradOutput, back)
end

return HardTanh
