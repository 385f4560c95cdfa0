-- nn.Unsqueeze: a view of the input with a dimension of size 1 inserted at
-- position pos (shifted by one for a batch when numInputDims is given).
local pointwise = require('nn.pointwise')
local schema = require('nn.schema')
local Unsqueeze, parent = torch.class('nn.Unsqueeze', 'nn.Module')

schema.declare(Unsqueeze, {
   {'pos', 'int'}, {'numInputDims', 'natural?'},
})

function Unsqueeze:__init(pos, numInputDims)
   parent.__init(self)
   if not pos then
      error('<nn.Unsqueeze> usage: nn.Unsqueeze(pos[, numInputDims])', 2)
   end
   self.pos = pos
   self:setNumInputDims(numInputDims)
end

function Unsqueeze:setNumInputDims(numInputDims)
   self.numInputDims = numInputDims
   return self
end

function Unsqueeze:updateOutput(input)
   local ndim = input:dim()
   local offset = ndim - (self.numInputDims or ndim)
   if offset < 0 then
      error('<nn.Unsqueeze> numInputDims must be <= input:dim()', 2)
   end
   local pos = self.pos + offset
   if pos < 1 or pos > ndim + 1 then
      error(string.format('<nn.Unsqueeze> position %d out of range for a %dD input', pos, ndim), 2)
   end
   self.output = nn.utils.addSingletonDimension(input, pos)
   return self.output
end

-- dE/dx = dE/dy seen with the input's sizes
function Unsqueeze:updateGradInput(input, gradOutput)
   return pointwise.viewGrad(self, input, gradOutput, 'nn.Unsqueeze')
end

return Unsqueeze
