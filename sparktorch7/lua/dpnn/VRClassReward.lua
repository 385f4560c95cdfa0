-- nn.VRClassReward(module, scale, criterion): the REINFORCE reward criterion
-- of the recurrent attention model: input {class scores (N x K), baseline};
-- the reward is scale where the arg-max class equals the target, and the
-- loss its negated mean. (The gradients, and module:reinforce, are training.)
local schema = require('nn.schema')
local VRClassReward, parent = torch.class('nn.VRClassReward', 'nn.Criterion')

schema.declare(VRClassReward, {
   {'module', 'module?'},
   {'scale', 'number?'},
   {'criterion', 'criterion?'},
   {'reward', 'tensor?'},
})

function VRClassReward:__init(module, scale, criterion)
   parent.__init(self)
   self.module = module
   self.scale = scale or 1
   self.criterion = criterion or nn.MSECriterion()
   self.sizeAverage = true
   self.gradInput = {torch.Tensor()}
end

function VRClassReward:updateOutput(input, target)
   if type(input) ~= 'table' or not torch.isTensor(input[1]) then
      error('<nn.VRClassReward> input must be a table {scores, baseline}', 2)
   end
   local scores = self:toBatch(input[1], 1)
   local _, maxIdx = torch.max(scores, 2)
   maxIdx = maxIdx:select(2, 1)
   local t = target
   if torch.isTensor(t) then t = t:long():view(-1) end
   if not torch.isTensor(t) or t:nElement() ~= maxIdx:nElement() then
      error(string.format('<nn.VRClassReward> target must hold %d class indices', maxIdx:nElement()), 2)
   end
   self.reward = nn.utils.newLike(scores):resize(maxIdx:size(1)):copy(maxIdx:eq(t)):mul(self.scale)
   self.output = -self.reward:sum()
   if self.sizeAverage then
      self.output = self.output / scores:size(1)
   end
   return self.output
end

-- The reward minus the baseline (divided by the batch size with sizeAverage) goes to the
-- module's Reinforce layers (module:reinforce); the class scores get a zero gradient and the
-- baseline the criterion's gradient towards the reward.
function VRClassReward:updateGradInput(input, target)
   if not torch.isTensor(self.reward) then
      error(string.format('<%s> no reward: run forward first', torch.type(self)), 2)
   end
   local scores = self:toBatch(input[1], 1)
   local baseline = self:toBatch(input[2], 1)
   if baseline:nElement() ~= self.reward:nElement() then
      error(string.format('<%s> the baseline holds %d values for %d rewards', torch.type(self),
                          baseline:nElement(), self.reward:nElement()), 2)
   end
   self.vrReward = self.vrReward or self.reward.new()
   self.vrReward:resizeAs(self.reward):copy(self.reward):add(-1, baseline:contiguous():view(-1))
   if self.sizeAverage then self.vrReward:div(scores:size(1)) end
   if self.module then self.module:reinforce(self.vrReward) end
   local gScores = torch.isTensor(self.gradInput[1]) and torch.type(self.gradInput[1]) == torch.type(scores)
      and self.gradInput[1] or nn.utils.newLike(scores)
   gScores:resizeAs(scores):zero()
   local reward = self.reward:view(baseline:size())
   self.criterion:forward(baseline, reward)
   local gBase = self.criterion:backward(baseline, reward)
   self.gradInput = {self:fromBatch(gScores, 1), self:fromBatch(gBase, 1)}
   return self.gradInput
end

function VRClassReward:type(typename, cache)
   local module = self.module
   self.module = nil
   local ret = parent.type(self, typename, cache)
   self.module = module
   return ret
end

return VRClassReward
