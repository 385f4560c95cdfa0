-- nn.ExpandAs: {a, b} -> {a, b expanded to a's size} (a view of b).
local schema = require('nn.schema')
local ExpandAs, parent = torch.class('nn.ExpandAs', 'nn.Module')

schema.declare(ExpandAs, {
   {'sum1', 'tensor?'}, {'sum2', 'tensor?'},
})

function ExpandAs:__init()
   parent.__init(self)
   self.output = {}
   self.gradInput = {}
   self.sum1 = torch.Tensor()
   self.sum2 = torch.Tensor()
end

function ExpandAs:updateOutput(input)
   if type(input) ~= 'table' or not torch.isTensor(input[1]) or not torch.isTensor(input[2]) then
      error('<nn.ExpandAs> input must be a table of two tensors', 2)
   end
   self.output = {input[1], input[2]:expandAs(input[1])}
   return self.output
end

-- a's gradient passes through; b's is the expanded gradient summed over the dimensions
-- the expansion repeated
function ExpandAs:updateGradInput(input, gradOutput)
   if type(gradOutput) ~= 'table' or not torch.isTensor(gradOutput[1]) or not torch.isTensor(gradOutput[2])
         or not gradOutput[2]:isSameSizeAs(input[1]) then
      error('<nn.ExpandAs> gradOutput must be a table of two tensors sized as input[1]', 2)
   end
   local b, g = input[2], gradOutput[2]
   for d = 1, b:dim() do
      if b:size(d) ~= g:size(d) then g = g:sum(d) end
   end
   self.gradInput = {gradOutput[1], g:contiguous():viewAs(b)}
   return self.gradInput
end

return ExpandAs
