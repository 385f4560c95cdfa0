-- nn.BinaryClassReward(module, scale, criterion): VRClassReward for one
-- probability per sample: the reward is scale where (p > 0.5) equals the
-- 0/1 target; the loss its negated mean.
local schema = require('nn.schema')
local BinaryClassReward, parent = torch.class('nn.BinaryClassReward', 'nn.Criterion')

schema.declare(BinaryClassReward, {
   {'module', 'module?'},
   {'scale', 'number?'},
   {'criterion', 'criterion?'},
   {'reward', 'tensor?'},
})

function BinaryClassReward:__init(module, scale, criterion)
   parent.__init(self)
   self.module = module
   self.scale = scale or 1
   self.criterion = criterion or nn.MSECriterion()
   self.sizeAverage = true
   self.gradInput = {torch.Tensor()}
end

function BinaryClassReward:updateOutput(input, target)
   if type(input) ~= 'table' or not torch.isTensor(input[1]) or input[1]:dim() ~= 1 then
      error('<nn.BinaryClassReward> input must be a table {probabilities (1D), baseline}', 2)
   end
   local p = input[1]
   if not torch.isTensor(target) or target:dim() ~= 1 or target:size(1) ~= p:size(1) then
      error(string.format('<nn.BinaryClassReward> target must be a vector of %d 0/1 values', p:size(1)), 2)
   end
   local binary = nn.utils.newLike(p):resizeAs(p):copy(p:gt(0.5))
   local t = nn.utils.newLike(p):resizeAs(target):copy(target)
   self.reward = nn.utils.newLike(p):resizeAs(p):copy(binary:eq(t)):mul(self.scale)
   self.output = -self.reward:sum()
   if self.sizeAverage then
      self.output = self.output / p:size(1)
   end
   return self.output
end

function BinaryClassReward:updateGradInput(input, target)
   if not torch.isTensor(self.reward) then
      error('<nn.BinaryClassReward> no reward: run forward first', 2)
   end
   local p, baseline = input[1], input[2]
   self.vrReward = self.vrReward or self.reward.new()
   self.vrReward:resizeAs(self.reward):copy(self.reward):add(-1, baseline)
   if self.sizeAverage then self.vrReward:div(p:size(1)) end
   if self.module then self.module:reinforce(self.vrReward) end
   local gp = torch.isTensor(self.gradInput[1]) and torch.type(self.gradInput[1]) == torch.type(p)
      and self.gradInput[1] or nn.utils.newLike(p)
   gp:resizeAs(p):zero()
   self.criterion:forward(baseline, self.reward)
   self.gradInput = {gp, self.criterion:backward(baseline, self.reward)}
   return self.gradInput
end

BinaryClassReward.type = nn.VRClassReward.type

return BinaryClassReward
