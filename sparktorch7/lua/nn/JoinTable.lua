-- nn.JoinTable: concatenates a table of tensors along dimension (negative
-- counts from the end; with nInputDims, a batch shifts it by one).
local pointwise = require('nn.pointwise')
local tablegrad = require('nn.tablegrad')
local schema = require('nn.schema')
local JoinTable, parent = torch.class('nn.JoinTable', 'nn.Module')

schema.declare(JoinTable, {
   {'dimension', 'int'}, {'nInputDims', 'natural?'}, {'size', 'longstorage?'},
})

function JoinTable:__init(dimension, nInputDims)
   parent.__init(self)
   self.size = torch.LongStorage()
   self.dimension = dimension
   self.gradInput = {}
   self.nInputDims = nInputDims
end

function JoinTable:_getPositiveDimension(input)
   return pointwise.dimension(self.dimension, self.nInputDims, input[1]:dim())
end

function JoinTable:updateOutput(input)
   if type(input) ~= 'table' or not torch.isTensor(input[1]) then
      error('<nn.JoinTable> input must be a table of tensors', 2)
   end
   local dim = self:_getPositiveDimension(input)
   local sizes = input[1]:size():totable()
   for i = 2, #input do
      local t = input[i]
      if t:dim() ~= #sizes then
         error(string.format('<nn.JoinTable> tensor %d has %d dimensions, tensor 1 has %d',
                             i, t:dim(), #sizes), 2)
      end
      sizes[dim] = sizes[dim] + t:size(dim)
   end
   self.size = torch.LongStorage(sizes)
   if not torch.isTensor(self.output) or torch.type(self.output) ~= torch.type(input[1]) then
      self.output = nn.utils.newLike(input[1])
   end
   for i = 1, #input do
      if self.output == input[i] then
         self.output = nn.utils.newLike(input[1])
      end
   end
   self.output:resize(self.size)
   local offset = 1
   for i = 1, #input do
      local t = input[i]
      local n = t:size(dim)
      self.output:narrow(dim, offset, n):copy(t)
      offset = offset + n
   end
   return self.output
end

-- input i gets its slice of gradOutput along the joined dimension
function JoinTable:updateGradInput(input, gradOutput)
   if type(input) ~= 'table' or not torch.isTensor(input[1]) then
      error('<nn.JoinTable> input must be a table of tensors', 2)
   end
   local dim = self:_getPositiveDimension(input)
   local total = 0
   for i = 1, #input do
      total = total + input[i]:size(dim)
   end
   if not torch.isTensor(gradOutput) or gradOutput:dim() < dim or gradOutput:size(dim) ~= total then
      error(string.format('<nn.JoinTable> gradOutput must have %d elements along dimension %d', total, dim), 2)
   end
   tablegrad.table(self, #input)
   local offset = 1
   for i = 1, #input do
      local n = input[i]:size(dim)
      local g = tablegrad.like(self, i, input[i])
      g:copy(gradOutput:narrow(dim, offset, n))
      offset = offset + n
   end
   return self.gradInput
end

function JoinTable:type(typename, tensorCache)
   if typename then
      self.gradInput = {}
   end
   return parent.type(self, typename, tensorCache)
end

return JoinTable
