-- nn.Select: a copy of input:select(dimension, index); negative values count
-- from the end.
local schema = require('nn.schema')
local Select, parent = torch.class('nn.Select', 'nn.Module')

schema.declare(Select, {
   {'dimension', 'int'}, {'index', 'int'},
})

function Select:__init(dimension, index)
   parent.__init(self)
   self.dimension = dimension
   self.index = index
end

function Select:updateOutput(input)
   local dim = self.dimension < 0 and input:dim() + self.dimension + 1 or self.dimension
   local index = self.index < 0 and input:size(dim) + self.index + 1 or self.index
   local view = input:select(dim, index)
   if not torch.isTensor(self.output) or torch.type(self.output) ~= torch.type(input)
      or self.output == input then
      self.output = nn.utils.newLike(input)
   end
   self.output:resize(view:size()):copy(view)
   return self.output
end

return Select
