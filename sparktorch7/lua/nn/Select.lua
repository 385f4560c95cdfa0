-- nn.Select: a copy of input:select(dimension, index); negative values count
-- from the end.
local pointwise = require('nn.pointwise')
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

-- dimension and index with the negative ones resolved against the input
local function resolve(self, input)
   local dim = self.dimension < 0 and input:dim() + self.dimension + 1 or self.dimension
   local index = self.index < 0 and input:size(dim) + self.index + 1 or self.index
   return dim, index
end

function Select:updateOutput(input)
   local view = input:select(resolve(self, input))
   if not torch.isTensor(self.output) or torch.type(self.output) ~= torch.type(input)
      or self.output == input then
      self.output = nn.utils.newLike(input)
   end
   self.output:resize(view:size()):copy(view)
   return self.output
end

-- dE/dx: zeros, and dE/dy in the selected slice
function Select:updateGradInput(input, gradOutput)
   local gi = pointwise.zeroGrad(self, input, gradOutput)
   gi:select(resolve(self, input)):copy(gradOutput)
   return gi
end

return Select
