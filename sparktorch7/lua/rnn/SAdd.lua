-- nn.SAdd(addend, negate): y = x + addend, negated when negate (rnn's GRU
-- computes 1 - z with nn.SAdd(-1, true)).
local schema = require('nn.schema')
local SAdd, parent = torch.class('nn.SAdd', 'nn.Module')

schema.declare(SAdd, {
   {'addend', 'number'},
   {'negate', 'boolean?'},
})

function SAdd:__init(addend, negate)
   parent.__init(self)
   self.addend = addend
   self.negate = (negate == nil) and false or negate
end

function SAdd:updateOutput(input)
   if not torch.isTensor(input) then
      error('<nn.SAdd> input must be a tensor, got ' .. torch.type(input), 2)
   end
   if not torch.isTensor(self.output) or torch.type(self.output) ~= torch.type(input) or self.output == input then
      self.output = nn.utils.newLike(input)
   end
   self.output:resizeAs(input):copy(input):add(self.addend)
   if self.negate then
      self.output:mul(-1)
   end
   return self.output
end

-- d(x + a)/dx = 1, negated with negate
function SAdd:updateGradInput(input, gradOutput)
   if not torch.isTensor(gradOutput) or gradOutput:nElement() ~= input:nElement() then
      error(string.format('<nn.SAdd> gradOutput must be a tensor of %d elements (as the input), got %s',
                          input:nElement(), torch.isTensor(gradOutput) and gradOutput:nElement() .. ' elements'
                          or torch.type(gradOutput)), 2)
   end
   if not torch.isTensor(self.gradInput) or torch.type(self.gradInput) ~= torch.type(input) then
      self.gradInput = nn.utils.newLike(input)
   end
   self.gradInput:resizeAs(input):copy(gradOutput:viewAs(input))
   if self.negate then self.gradInput:mul(-1) end
   return self.gradInput
end

return SAdd
