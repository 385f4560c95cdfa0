-- nn.Collapse(nInputDim): flattens all but the batch dimension (a view): an
-- input of nInputDim dimensions becomes a vector, a batch of them a matrix.
local pointwise = require('nn.pointwise')
local schema = require('nn.schema')
local Collapse, parent = torch.class('nn.Collapse', 'nn.Module')

schema.declare(Collapse, {
   {'nInputDim', 'natural?'},
   {'_input', 'tensor?'},
})

function Collapse:__init(nInputDim)
   parent.__init(self)
   self.nInputDim = nInputDim
end

function Collapse:updateOutput(input)
   if not torch.isTensor(input) then
      error('<nn.Collapse> input must be a tensor, got ' .. torch.type(input), 2)
   end
   if not input:isContiguous() then
      self._input = self._input or nn.utils.newLike(input)
      self._input:resize(input:size()):copy(input)
      input = self._input
   end
   if not torch.isTensor(self.output) or torch.type(self.output) ~= torch.type(input) then
      self.output = nn.utils.newLike(input)
   end
   if input:dim() > (self.nInputDim or 0) and input:dim() > 1 then
      self.output:view(input, input:size(1), -1)
   else
      self.output:view(input, -1)
   end
   return self.output
end

-- dE/dx: gradOutput seen with the input's sizes
function Collapse:updateGradInput(input, gradOutput)
   return pointwise.viewGrad(self, input, gradOutput, 'nn.Collapse')
end

function Collapse:clearState()
   self._input = nil
   return parent.clearState(self)
end

return Collapse
