-- nn.Copy: copies the input into a tensor of type outtype (the input's own
-- type is intype). dontCast keeps the types when the module is converted.
local schema = require('nn.schema')
local Copy, parent = torch.class('nn.Copy', 'nn.Module')

schema.declare(Copy, {
   {'dontCast', 'boolean?'}, {'forceCopy', 'boolean?'},
})

function Copy:__init(intype, outtype, forceCopy, dontCast)
   parent.__init(self)
   intype = intype or torch.Tensor.__typename
   outtype = outtype or torch.Tensor.__typename
   self.dontCast = dontCast
   self.forceCopy = forceCopy
   self.output = nn.utils.newTensor(outtype)
   self.gradInput = nn.utils.newTensor(intype)
end

-- outputs that are the caller's input (no copy needed) are remembered here,
-- so that a later copy never writes into them
local borrowed = setmetatable({}, {__mode = 'k'})

function Copy:updateOutput(input)
   if torch.typename(input) == torch.typename(self.output) and not self.forceCopy then
      self.output = input
      borrowed[self] = input
   else
      if borrowed[self] == self.output then
         self.output = nn.utils.newLike(self.output)
         borrowed[self] = nil
      end
      self.output:resize(input:size()):copy(input)
   end
   return self.output
end

function Copy:type(typename, tensorCache)
   if typename and self.dontCast then
      return self
   end
   return parent.type(self, typename, tensorCache)
end

-- dE/dx = dE/dy copied back into the input's type (intype)
function Copy:updateGradInput(input, gradOutput)
   if not torch.isTensor(gradOutput) then
      error(string.format('<nn.Copy> gradOutput must be a tensor, not a %s', torch.type(gradOutput)), 2)
   end
   if not torch.isTensor(self.gradInput) or self.gradInput == gradOutput or self.gradInput == input then
      self.gradInput = nn.utils.newLike(torch.isTensor(input) and input or gradOutput)
   end
   self.gradInput:resize(gradOutput:size()):copy(gradOutput)
   return self.gradInput
end

return Copy
