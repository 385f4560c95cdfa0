-- nn.Reinforce(stochastic): the base of dpnn's REINFORCE sampling modules
-- (ReinforceNormal, ReinforceCategorical, ReinforceBernoulli, ReinforceGamma):
-- in training (or when stochastic) they sample, in evaluation they output
-- the distribution's mean. reinforce(reward) keeps the reward for training.
local schema = require('nn.schema')
local kernels = require('nn.kernels')
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

-- REINFORCE: the gradient is the reward the criterion gave (reinforce(reward)), the
-- gradOutput ignored; the subclasses multiply it by d log f / d parameters.
function Reinforce:updateGradInput(input, gradOutput)
   local reward = self:rewardAs(input)
   return kernels.output(self, input, nil, 'gradInput'):copy(reward)
end

-- the reward (one per sample) expanded to input's shape
function Reinforce:rewardAs(input)
   local reward = self.reward
   if not torch.isTensor(reward) then
      error(string.format('<%s> no reward: a reward criterion (e.g. nn.VRClassReward) must call '
                          .. 'reinforce(reward) before backward', torch.type(self)), 3)
   end
   if reward:dim() ~= 1 then
      error(string.format('<%s> the reward must be a vector (one per sample), got a %dD tensor',
                          torch.type(self), reward:dim()), 3)
   end
   if input:isSameSizeAs(reward) then return reward end
   if input:dim() == 0 or reward:size(1) ~= input:size(1) then
      -- a single sample: seen as a batch of one
      if input:nElement() > 0 and reward:size(1) == 1 then
         return reward:view(1):expand(input:nElement()):contiguous():view(input:size())
      end
      error(string.format('<%s> %d rewards for an input of %d samples', torch.type(self),
                          reward:size(1), input:dim() > 0 and input:size(1) or 0), 3)
   end
   local size = {}
   for i = 1, input:dim() do size[i] = 1 end
   size[1] = reward:size(1)
   return reward:contiguous():view(torch.LongStorage(size)):expandAs(input)
end

return Reinforce
