-- nn.AddConstant: y = x + constant_scalar, a number or, as in Torch7, a 1D tensor added
-- to a 1D input of its size or to every row of a 2D input.
local pointwise = require('nn.pointwise')
local schema = require('nn.schema')
local AddConstant, parent = torch.class('nn.AddConstant', 'nn.Module')

schema.declare(AddConstant, {
   {'constant_scalar', 'number|tensor'}, {'inplace', 'boolean?'},
})

function AddConstant:__init(constant_scalar, ip)
   parent.__init(self)
   if type(constant_scalar) ~= 'number' and not torch.isTensor(constant_scalar) then
      error('<nn.AddConstant> usage: nn.AddConstant(scalar or 1D tensor[, inplace])', 2)
   end
   if ip and type(ip) ~= 'boolean' then
      error('<nn.AddConstant> in-place flag must be boolean', 2)
   end
   self.constant_scalar = constant_scalar
   self.inplace = ip or false
end

-- The constant as a contiguous tensor checked against the input, or nil for a number.
local function constantTensor(self, input)
   local c = self.constant_scalar
   if type(c) == 'number' then
      return nil
   end
   local d = torch.isTensor(input) and input:dim() or 0
   if c:dim() ~= 1 or (d ~= 1 and d ~= 2) or input:size(d) ~= c:size(1) then
      error(string.format('<nn.AddConstant> a constant of size %s needs a 1D or 2D input whose last '
                          .. 'dimension has its %d elements, got %s', table.concat(c:size():totable(), 'x'),
                          c:nElement(), torch.isTensor(input) and table.concat(input:size():totable(), 'x')
                          or torch.type(input)), 3)
   end
   return pointwise.contiguous(c)
end

-- y[i] = x[i] + sign * (the constant element meeting element i)
local function shift(y, x, n, self, c, sign)
   if c then
      local cp, m = c:data(), c:nElement()
      for i = 0, n - 1 do
         y[i] = x[i] + sign * cp[i % m]
      end
   else
      local v = sign * self.constant_scalar
      for i = 0, n - 1 do
         y[i] = x[i] + v
      end
   end
end

function AddConstant:updateOutput(input)
   local c = constantTensor(self, input)
   local y, x, n, back = pointwise.begin(self, input, 'nn.AddConstant')
   shift(y, x, n, self, c, 1)
   return pointwise.finish(self, input, back)
end

-- dE/dx = dE/dy; in place gradInput is gradOutput itself and the input, which forward
-- shifted, gets its values back.
function AddConstant:updateGradInput(input, gradOutput)
   local c = constantTensor(self, input)
   local gi = pointwise.gradCopy(self, input, gradOutput, 'nn.AddConstant')
   if self.inplace then
      local y, x, n, back = pointwise.begin(self, input, 'nn.AddConstant')
      shift(y, x, n, self, c, -1)
      pointwise.finish(self, input, back)
   end
   return gi
end

return AddConstant
