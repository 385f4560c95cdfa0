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

return Contiguous
