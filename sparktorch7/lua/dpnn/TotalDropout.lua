-- nn.TotalDropout(p): in training the whole input is zeroed with probability
-- p (kept as it is otherwise); the identity in evaluation.
local schema = require('nn.schema')
local TotalDropout, parent = torch.class('nn.TotalDropout', 'nn.Module')

schema.declare(TotalDropout, {
   {'p', 'number', min = 0, max = 1},
   {'noise', 'number|tensor?'},
})

function TotalDropout:__init(p)
   self.p = p or 0.5
   self.train = true
   if self.p >= 1 or self.p < 0 then
      error('<nn.TotalDropout> illegal percentage, must be 0 <= p < 1', 2)
   end
   parent.__init(self)
end

function TotalDropout:updateOutput(input)
   if not torch.isTensor(input) then
      error('<nn.TotalDropout> input must be a tensor, got ' .. torch.type(input), 2)
   end
   if not torch.isTensor(self.output) or torch.type(self.output) ~= torch.type(input) or self.output == input then
      self.output = nn.utils.newLike(input)
   end
   self.output:resizeAs(input):copy(input)
   if self.train then
      self.noise = torch.bernoulli(1 - self.p)
      self.output:mul(self.noise)
   end
   return self.output
end

function TotalDropout:__tostring__()
   return string.format('%s(%f)', torch.type(self), self.p)
end

return TotalDropout
