-- nn.Narrow: a copy of input:narrow(dimension, offset, length); a negative
-- dimension counts from the end, and a negative length too: -1 runs to the last
-- element, -2 to the one before it, and so on. A negative offset keeps all but the
-- last `length` elements (Torch7's reading of it).
local pointwise = require('nn.pointwise')
local schema = require('nn.schema')
local Narrow, parent = torch.class('nn.Narrow', 'nn.Module')

schema.declare(Narrow, {
   {'dimension', 'int'}, {'index', 'int'}, {'length', 'int'},
})

function Narrow:__init(dimension, offset, length)
   parent.__init(self)
   if not dimension or not offset then
      error('<nn.Narrow> usage: nn.Narrow(dimension, offset[, length])', 2)
   end
   self.dimension = dimension
   self.index = offset
   self.length = length or 1
end

-- dimension, offset and length with the negative ones resolved against the input, as
-- Torch7 does: a negative length counts from the end (-1: up to the last element); a
-- negative offset narrows from the first element and drops the last `length` ones.
local function resolve(self, input)
   local dim = self.dimension < 0 and input:dim() + self.dimension + 1 or self.dimension
   local size = input:size(dim)
   local index, length = self.index, self.length
   if length < 0 then
      length = size - index + length + 2
   end
   if index < 0 then
      index = 1
      length = size - length
   end
   return dim, index, length
end

function Narrow:updateOutput(input)
   local view = input:narrow(resolve(self, input))
   if not torch.isTensor(self.output) or torch.type(self.output) ~= torch.type(input)
      or self.output == input then
      self.output = nn.utils.newLike(input)
   end
   self.output:resize(view:size()):copy(view)
   return self.output
end

-- dE/dx: zeros, and dE/dy in the narrowed part
function Narrow:updateGradInput(input, gradOutput)
   local gi = pointwise.zeroGrad(self, input, gradOutput)
   gi:narrow(resolve(self, input)):copy(gradOutput)
   return gi
end

return Narrow
