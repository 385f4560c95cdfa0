-- nn.Transpose: swaps pairs of dimensions in turn, e.g. nn.Transpose({1, 4}, {1, 3});
-- the output is a contiguous copy.
local pointwise = require('nn.pointwise')
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

-- how far a batch input shifts the dimensions named by the permutations
local function shiftOf(self, input)
   if self.numInputDims and input:dim() > self.numInputDims then
      return input:dim() - self.numInputDims
   end
   return 0
end

function Transpose:updateOutput(input)
   local shift = shiftOf(self, input)
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

-- dE/dx = dE/dy with the swaps undone (in reverse order), copied
function Transpose:updateGradInput(input, gradOutput)
   local shift = shiftOf(self, input)
   local t = gradOutput
   for i = #self.permutations, 1, -1 do
      local perm = self.permutations[i]
      t = t:transpose(perm[1] + shift, perm[2] + shift)
   end
   if not t:isSameSizeAs(input) then
      error(string.format('<nn.Transpose> gradOutput of size %s does not transpose back to the input size %s',
                          table.concat(gradOutput:size():totable(), 'x'), table.concat(input:size():totable(), 'x')), 2)
   end
   local gi = pointwise.zeroGrad(self, input, gradOutput)
   gi:copy(t)
   return gi
end

return Transpose
