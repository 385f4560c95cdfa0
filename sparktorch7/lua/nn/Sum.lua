-- nn.Sum: sums the input over dimension (divides by its size when
-- sizeAverage); the summed dimension is removed unless squeeze is false or
-- the input is 1D.
local pointwise = require('nn.pointwise')
local kernels = require('nn.kernels')
local schema = require('nn.schema')
local Sum, parent = torch.class('nn.Sum', 'nn.Module')

schema.declare(Sum, {
   {'dimension', 'int'}, {'nInputDims', 'natural?'},
   {'sizeAverage', 'boolean?'}, {'squeeze', 'boolean?'},
})

function Sum:__init(dimension, nInputDims, sizeAverage, squeeze)
   parent.__init(self)
   self.dimension = dimension or 1
   self.nInputDims = nInputDims
   self.sizeAverage = sizeAverage or false
   if squeeze ~= nil then
      self.squeeze = squeeze
   else
      self.squeeze = true
   end
end

function Sum:_getPositiveDimension(input)
   local dim = pointwise.dimension(self.dimension, self.nInputDims, input:dim())
   if dim < 1 or dim > input:dim() then
      error(string.format('<%s> dimension %d out of range for a %dD input',
                          torch.type(self), self.dimension, input:dim()), 3)
   end
   return dim
end

-- output sizes after reducing dim: kept as 1, or dropped (squeeze)
function Sum:_outputSizes(input, dim)
   local sizes = input:size():totable()
   sizes[dim] = 1
   if (self.squeeze == nil or self.squeeze) and #sizes > 1 then
      table.remove(sizes, dim)
   end
   return torch.LongStorage(sizes)
end

function Sum:updateOutput(input)
   local dim = self:_getPositiveDimension(input)
   local x = pointwise.contiguous(input)
   local outer, size, inner = pointwise.around(x, dim)
   local out = kernels.output(self, input, self:_outputSizes(input, dim))
   local xp, yp = x:data(), out:data()
   local div = self.sizeAverage and size or 1
   for o = 0, outer - 1 do
      for k = 0, inner - 1 do
         local s = 0
         local base = o * size * inner + k
         for j = 0, size - 1 do
            s = s + xp[base + j * inner]
         end
         yp[o * inner + k] = s / div
      end
   end
   return out
end

return Sum
