-- nn.Squeeze: a view of the input without its dimensions of size 1 (or only
-- dimension dim, when given). With numInputDims, a batch of size 1 is kept.
local pointwise = require('nn.pointwise')
local schema = require('nn.schema')
local Squeeze, parent = torch.class('nn.Squeeze', 'nn.Module')

schema.declare(Squeeze, {
   {'dim', 'int?'}, {'numInputDims', 'natural?'},
})

function Squeeze:__init(dim, numInputDims)
   parent.__init(self)
   self.dim = dim
   self:setNumInputDims(numInputDims)
end

function Squeeze:setNumInputDims(numInputDims)
   self.numInputDims = numInputDims
   return self
end

function Squeeze:updateOutput(input)
   local dim = self.dim
   local keepBatch = false
   if self.numInputDims and input:dim() == self.numInputDims + 1 then
      if dim then
         dim = dim + 1
      elseif input:size(1) == 1 then
         keepBatch = true
      end
   end
   local sizes, strides = {}, {}
   for k = 1, input:dim() do
      local drop
      if dim then
         drop = k == dim and input:size(k) == 1 and input:dim() > 1
      else
         drop = input:size(k) == 1 and not (keepBatch and k == 1)
      end
      if not drop then
         sizes[#sizes + 1] = input:size(k)
         strides[#strides + 1] = input:stride(k)
      end
   end
   if #sizes == 0 and input:dim() > 0 then
      -- all dimensions were 1: Torch7 keeps one
      sizes, strides = {1}, {1}
   end
   self.output = pointwise.viewOf(input, sizes, strides)
   return self.output
end

-- dE/dx = dE/dy seen with the input's sizes
function Squeeze:updateGradInput(input, gradOutput)
   return pointwise.viewGrad(self, input, gradOutput, 'nn.Squeeze')
end

return Squeeze
