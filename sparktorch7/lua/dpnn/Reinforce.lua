-- nn.Reinforce(stochastic): the base of dpnn's REINFORCE sampling modules
-- (ReinforceNormal, ReinforceCategorical, ReinforceBernoulli, ReinforceGamma):
-- in training (or when stochastic) they sample, in evaluation they output
-- the distribution's mean. reinforce(reward) keeps the reward for training.
local schema = require('nn.schema')
local Reinforce, parent = torch.class('nn.Reinforce', 'nn.Module')

schema.declare(Reinforce, {
   {'stochastic', 'boolean?'},
   {'reward', 'tensor|table?'},
})

function Reinforce:__init(stochastic)
   parent.__init(self)
   self.stochastic = stochastic
end

function Reinforce:reinforce(reward)
   parent.reinforce(self, reward)
   self.reward = reward
end

function Reinforce:updateOutput(input)
   self.output:set(input)
   return self.output
end

-- output a fresh tensor like input (not input itself) of input's size
function Reinforce:_outputLike(input)
   if not torch.isTensor(self.output) or torch.type(self.output) ~= torch.type(input) or self.output == input then
      self.output = nn.utils.newLike(input)
   end
   self.output:resizeAs(input)
   return self.output
end

function Reinforce:_sampling()
   return self.stochastic or self.train ~= false
end

return Reinforce
