-- nn.Narrow: a copy of input:narrow(dimension, offset, length); a negative
-- dimension or offset counts from the end, and a negative length too: -1 runs
-- to the last element, -2 to the one before it, and so on.
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

function Narrow:updateOutput(input)
   local dim = self.dimension < 0 and input:dim() + self.dimension + 1 or self.dimension
   local index = self.index
   if index < 0 then
      index = input:size(dim) + index + 1
   end
   local length = self.length
   if length < 0 then
      length = input:size(dim) - index + 2 + length
   end
   local view = input:narrow(dim, index, length)
   if not torch.isTensor(self.output) or torch.type(self.output) ~= torch.type(input)
      or self.output == input then
      self.output = nn.utils.newLike(input)
   end
   self.output:resize(view:size()):copy(view)
   return self.output
end

return Narrow
