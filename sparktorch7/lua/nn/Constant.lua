-- nn.Constant(value, nInputDim): outputs the stored tensor value whatever the
-- input; with nInputDim, an input of more dimensions is a batch and gets one
-- copy of value per sample.
local unpack = unpack or table.unpack
local pointwise = require('nn.pointwise')
local schema = require('nn.schema')
local Constant, parent = torch.class('nn.Constant', 'nn.Module')

schema.declare(Constant, {
   {'value', 'tensor'},
   {'nInputDim', 'natural?'},
})

function Constant:__init(value, nInputDim)
   if type(value) == 'number' then
      value = torch.Tensor({value})
   end
   if not torch.isTensor(value) then
      error('<nn.Constant> expects a number or a tensor at argument 1, got ' .. torch.type(value), 2)
   end
   self.value = value
   self.nInputDim = nInputDim
   parent.__init(self)
end

function Constant:updateOutput(input)
   local value = self.value
   if not torch.isTensor(self.output) or torch.type(self.output) ~= torch.type(value) then
      self.output = nn.utils.newLike(value)
   end
   if self.nInputDim and torch.isTensor(input) and input:dim() > self.nInputDim then
      local vsize = value:size():totable()
      self.output:resize(input:size(1), unpack(vsize))
      local v = value:contiguous():view(1, unpack(vsize))
      self.output:copy(v:expand(self.output:size()))
   else
      self.output:resize(value:size()):copy(value)
   end
   return self.output
end

-- the output does not depend on the input: dE/dx is zeros shaped like the input (a table
-- of zeros for a table input)
function Constant:updateGradInput(input, gradOutput)
   if torch.isTensor(input) then
      return pointwise.zeroGrad(self, input, gradOutput)
   end
   if type(input) ~= 'table' then
      error('<nn.Constant> input must be a tensor or a table of tensors, got ' .. torch.type(input), 2)
   end
   self.gradInput = nn.utils.recursiveResizeAs(self.gradInput, input)
   nn.utils.recursiveFill(self.gradInput, 0)
   return self.gradInput
end

return Constant
