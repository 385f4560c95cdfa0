-- nn.MultiSoftMax(): nnx's softmax over the last dimension of a 2D (N x K) or 3D
-- (M x N x K) input: each row of K values is normalised on its own.
local schema = require('nn.schema')
local MultiSoftMax, parent = torch.class('nn.MultiSoftMax', 'nn.Module')

schema.parameterless(MultiSoftMax, 'a row-wise function of the input: no fields of its own')

local function rows(input, what)
   if not torch.isTensor(input) or (input:dim() ~= 2 and input:dim() ~= 3) then
      error('<nn.MultiSoftMax> ' .. what .. ' must be 2D or 3D, got '
            .. (torch.isTensor(input) and (input:dim() .. 'D') or torch.type(input)), 3)
   end
   local k = input:size(input:dim())
   return input:contiguous():view(input:nElement() / k, k)
end

function MultiSoftMax:updateOutput(input)
   local x = rows(input, 'input')
   self._softmax = self._softmax or nn.SoftMax()
   self.output = self._softmax:updateOutput(x):viewAs(input)
   return self.output
end

function MultiSoftMax:updateGradInput(input, gradOutput)
   local x, g = rows(input, 'input'), rows(gradOutput, 'gradOutput')
   self.gradInput = self._softmax:updateGradInput(x, g):viewAs(input)
   return self.gradInput
end

return MultiSoftMax
