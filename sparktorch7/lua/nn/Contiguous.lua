-- nn.Contiguous: y = x when x is contiguous in memory, else a contiguous copy.
local schema = require('nn.schema')
local Contiguous, parent = torch.class('nn.Contiguous', 'nn.Module')

schema.parameterless(Contiguous, 'copies a non-contiguous input: no fields of its own')

function Contiguous:updateOutput(input)
   if input:isContiguous() then
      self.output = input
   else
      if not torch.isTensor(self.output) or torch.type(self.output) ~= torch.type(input)
         or self.output == input then
         self.output = nn.utils.newLike(input)
      end
      self.output:resizeAs(input):copy(input)
   end
   return self.output
end

-- dE/dx = dE/dy: gradOutput itself when it is contiguous, else a contiguous copy
function Contiguous:updateGradInput(input, gradOutput)
   if gradOutput:isContiguous() then
      self.gradInput = gradOutput
   else
      if not torch.isTensor(self.gradInput) or torch.type(self.gradInput) ~= torch.type(gradOutput)
            or self.gradInput == gradOutput or self.gradInput == input then
         self.gradInput = nn.utils.newLike(gradOutput)
      end
      self.gradInput:resizeAs(gradOutput):copy(gradOutput)
   end
   return self.gradInput
end

return Contiguous
