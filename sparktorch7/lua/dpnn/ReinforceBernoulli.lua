-- nn.ReinforceBernoulli(stochastic): input probabilities; in training 1 where
-- a uniform draw is below the probability, else 0; in evaluation the
-- probabilities themselves.
local schema = require('nn.schema')
local ReinforceBernoulli, parent = torch.class('nn.ReinforceBernoulli', 'nn.Reinforce')

schema.declare(ReinforceBernoulli, {
   {'_uniform', 'tensor?'},
})

function ReinforceBernoulli:updateOutput(input)
   if not torch.isTensor(input) then
      error('<nn.ReinforceBernoulli> input must be a tensor of probabilities, got ' .. torch.type(input), 2)
   end
   local out = self:_outputLike(input)
   if self:_sampling() then
      self._uniform = nn.utils.newLike(input):resizeAs(input):uniform(0, 1)
      out:copy(self._uniform:lt(input))
   else
      out:copy(input)
   end
   return out
end

return ReinforceBernoulli
