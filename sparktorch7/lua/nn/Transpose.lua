-- nn.Transpose: swaps pairs of dimensions in turn, e.g. nn.Transpose({1, 4}, {1, 3});
-- the output is a contiguous copy.
local schema = require('nn.schema')
local Transpose, parent = torch.class('nn.Transpose', 'nn.Module')

schema.declare(Transpose, {
   {'permutations', 'table', check = schema.permutationPairs},
   {'numInputDims', 'natural?'},
})

function Transpose:__init(...)
   parent.__init(self)
   self.permutations = {...}
   self.numInputDims = nil
end

function Transpose:setNumInputDims(numInputDims)
   self.numInputDims = numInputDims
   return self
end

function Transpose:updateOutput(input)
   local shift = 0
   if self.numInputDims and input:dim() > self.numInputDims then
      shift = input:dim() - self.numInputDims
   end
   local t = input
   for _, perm in ipairs(self.permutations) do
      t = t:transpose(perm[1] + shift, perm[2] + shift)
   end
   if not torch.isTensor(self.output) or torch.type(self.output) ~= torch.type(input)
      or self.output == input then
      self.output = nn.utils.newLike(input)
   end
   self.output:resize(t:size()):copy(t)
   return self.output
end

return Transpose
