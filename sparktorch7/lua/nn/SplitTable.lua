-- nn.SplitTable: the table of slices input:select(dimension, i) (views);
-- negative dimension counts from the end, nInputDims shifts it for a batch.
local pointwise = require('nn.pointwise')
local schema = require('nn.schema')
local SplitTable, parent = torch.class('nn.SplitTable', 'nn.Module')

schema.declare(SplitTable, {
   {'dimension', 'int'}, {'nInputDims', 'natural?'},
})

function SplitTable:__init(dimension, nInputDims)
   parent.__init(self)
   self.dimension = dimension
   self.nInputDims = nInputDims
end

function SplitTable:_getPositiveDimension(input)
   return pointwise.dimension(self.dimension, self.nInputDims, input:dim())
end

function SplitTable:updateOutput(input)
   local dim = self:_getPositiveDimension(input)
   local output = {}
   for i = 1, input:size(dim) do
      output[i] = input:select(dim, i)
   end
   self.output = output
   return output
end

-- slice i of gradInput along the split dimension is gradOutput[i]
function SplitTable:updateGradInput(input, gradOutput)
   local dim = self:_getPositiveDimension(input)
   local slices = input:size(dim)
   if type(gradOutput) ~= 'table' or #gradOutput ~= slices then
      error(string.format('<nn.SplitTable> gradOutput must be a table of %d tensors', slices), 2)
   end
   if not torch.isTensor(self.gradInput) or torch.type(self.gradInput) ~= torch.type(input)
         or self.gradInput == input then
      self.gradInput = nn.utils.newLike(input)
   end
   self.gradInput:resizeAs(input)
   for i = 1, slices do
      self.gradInput:select(dim, i):copy(gradOutput[i])
   end
   return self.gradInput
end

return SplitTable
