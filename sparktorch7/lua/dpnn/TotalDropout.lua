-- nn.TotalDropout(p): in training the whole input is zeroed with probability
-- p (kept as it is otherwise); the identity in evaluation.
local schema = require('nn.schema')
local kernels = require('nn.kernels')
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

function TotalDropout:updateGradInput(input, gradOutput)
   if not self.train then
      error('<nn.TotalDropout> backward is only defined in training (the module is in evaluate mode)', 2)
   end
   if type(self.noise) ~= 'number' then
      error('<nn.TotalDropout> no dropout draw for this input: run forward in training first', 2)
   end
   local gi = kernels.output(self, gradOutput, nil, 'gradInput')
   gi:copy(gradOutput):mul(self.noise)
   return gi
end

function TotalDropout:__tostring__()
   return string.format('%s(%f)', torch.type(self), self.p)
end

return TotalDropout
