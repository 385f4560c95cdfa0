-- nn.Index: input {t, indices} gives t indexed along dimension by indices
-- (1-based, a 1D tensor), as t:index(dimension, indices).
local pointwise = require('nn.pointwise')
local schema = require('nn.schema')
local Index, parent = torch.class('nn.Index', 'nn.Module')

schema.declare(Index, {
   {'dimension', 'int'},
})

function Index:__init(dimension)
   parent.__init(self)
   self.dimension = dimension
   self.gradInput = {self.gradInput}
end

function Index:updateOutput(input)
   local t, indices = input[1], input[2]
   if not torch.isTensor(t) or not torch.isTensor(indices) or indices:dim() ~= 1 then
      error('<nn.Index> input must be {tensor, 1D tensor of indices}', 2)
   end
   local dim = self.dimension
   local sizes = t:size():totable()
   local n = indices:nElement()
   sizes[dim] = n
   if not torch.isTensor(self.output) or torch.type(self.output) ~= torch.type(t)
      or self.output == t then
      self.output = nn.utils.newLike(t)
   end
   self.output:resize(torch.LongStorage(sizes))
   local ip = pointwise.contiguous(indices):data()
   local size = t:size(dim)
   for i = 1, n do
      local k = tonumber(ip[i - 1])
      if k < 1 or k > size then
         error(string.format('<nn.Index> index %d out of range [1, %d]', k, size), 2)
      end
      self.output:narrow(dim, i, 1):copy(t:narrow(dim, k, 1))
   end
   return self.output
end

-- dE/dt: zeros, and each slice of dE/dy added back to the slice of t it was taken from (an
-- index used twice gets both); the indices get a zero gradient.
function Index:updateGradInput(input, gradOutput)
   local t, indices = input[1], input[2]
   local dim = self.dimension
   local n = indices:nElement()
   if not torch.isTensor(gradOutput) or gradOutput:dim() ~= t:dim() or gradOutput:size(dim) ~= n then
      error(string.format('<nn.Index> gradOutput must be the output of forward: %d slices along dimension %d',
                          n, dim), 2)
   end
   local gt = pointwise.zeroGradAt(self, 1, t, gradOutput)
   local ip = pointwise.contiguous(indices):data()
   for i = 1, n do
      gt:narrow(dim, tonumber(ip[i - 1]), 1):add(gradOutput:narrow(dim, i, 1))
   end
   local gidx = torch.isTensor(self.gradInput[2]) and self.gradInput[2] or nn.utils.newLike(t)
   self.gradInput[2] = gidx:resize(indices:size()):zero()
   return self.gradInput
end

return Index
