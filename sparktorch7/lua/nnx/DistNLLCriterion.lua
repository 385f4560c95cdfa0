-- nn.DistNLLCriterion([{inputIsADistance, inputIsProbability, inputIsLogProbability,
-- targetIsProbability = true}]): nnx's negative log-likelihood against a target distribution
-- over the K entries of a 1D input: -sum_i log q[i] * p[i], q the input made a distribution
-- (log-softmax of the scores, negated first when they are distances; log of probabilities;
-- or log-probabilities as they are), p the target (softmaxed unless targetIsProbability).
local schema = require('nn.schema')
local DistNLLCriterion, parent = torch.class('nn.DistNLLCriterion', 'nn.Criterion')

schema.declare(DistNLLCriterion, {
   {'inputIsADistance', 'boolean?'}, {'inputIsProbability', 'boolean?'},
   {'inputIsLogProbability', 'boolean?'}, {'targetIsProbability', 'boolean?'},
})

function DistNLLCriterion:__init(opts)
   parent.__init(self)
   opts = opts or {}
   self.inputIsADistance = opts.inputIsADistance or false
   self.inputIsProbability = opts.inputIsProbability or false
   self.inputIsLogProbability = opts.inputIsLogProbability or false
   self.targetIsProbability = opts.targetIsProbability
   if self.targetIsProbability == nil then self.targetIsProbability = true end
   self.targetSoftMax = nn.SoftMax()
   self.inputLogSoftMax = nn.LogSoftMax()
   self.inputLog = nn.Log()
end

function DistNLLCriterion:normalize(input, target)
   if not torch.isTensor(input) or input:dim() ~= 1 or not torch.isTensor(target)
      or target:nElement() ~= input:nElement() then
      error(string.format('<nn.DistNLLCriterion> expects a 1D input and a target of as many values, got %s and %s',
                          torch.isTensor(input) and table.concat(input:size():totable(), 'x') or torch.type(input),
                          torch.isTensor(target) and table.concat(target:size():totable(), 'x') or torch.type(target)), 3)
   end
   self.targetSoftMax = self.targetSoftMax or nn.SoftMax()
   self.inputLogSoftMax = self.inputLogSoftMax or nn.LogSoftMax()
   self.inputLog = self.inputLog or nn.Log()
   self.probTarget = self.targetIsProbability and target or self.targetSoftMax:updateOutput(target)
   self.input = self.inputIsADistance and torch.mul(input, -1) or input
   if not self.inputIsLogProbability and not self.inputIsProbability then
      self.logProbInput = self.inputLogSoftMax:updateOutput(self.input)
   elseif not self.inputIsLogProbability then
      self.logProbInput = self.inputLog:updateOutput(self.input)
   else
      self.logProbInput = self.input
   end
end

function DistNLLCriterion:updateOutput(input, target)
   self:normalize(input, target)
   self.output = -torch.cmul(self.logProbInput, self.probTarget:typeAs(self.logProbInput)):sum()
   return self.output
end

function DistNLLCriterion:updateGradInput(input, target)
   self:normalize(input, target)
   local g = self.probTarget:typeAs(input):clone():mul(-1)
   if not self.inputIsLogProbability and not self.inputIsProbability then
      g = self.inputLogSoftMax:updateGradInput(self.input, g)
   elseif not self.inputIsLogProbability then
      g = self.inputLog:updateGradInput(self.input, g)
   end
   self.gradInput = g:clone()
   if self.inputIsADistance then self.gradInput:mul(-1) end
   return self.gradInput
end

return DistNLLCriterion
