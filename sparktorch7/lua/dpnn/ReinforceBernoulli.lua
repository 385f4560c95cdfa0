-- nn.ReinforceBernoulli(stochastic): input probabilities; in training 1 where
-- a uniform draw is below the probability, else 0; in evaluation the
-- probabilities themselves.
local schema = require('nn.schema')
local kernels = require('nn.kernels')
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

-- d ln f(x; p) / dp = (x - p) / (p (1 - p)), times the reward, negated (descent)
function ReinforceBernoulli:updateGradInput(input, gradOutput)
   local g = kernels.output(self, input, nil, 'gradInput')
   g:copy(self.output):add(-1, input)
   local denom = input.new():resizeAs(input):fill(1):add(-1, input):cmul(input)
   return g:cdiv(denom):cmul(self:rewardAs(input)):mul(-1)
end

return ReinforceBernoulli
