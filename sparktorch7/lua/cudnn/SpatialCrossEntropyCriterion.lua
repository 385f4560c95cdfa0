local schema = require('nn.schema')
local SpatialCrossEntropyCriterion, parent =
   torch.class('cudnn.SpatialCrossEntropyCriterion', 'nn.Criterion')

schema.declare(SpatialCrossEntropyCriterion, {
   {'slsm', 'module'}, {'nll', 'criterion'},
})

-- cudnn.SpatialLogSoftMax over the classes of a batch x classes x H x W input, then
-- nn.SpatialClassNLLCriterion(weights) with the batch x H x W targets: no LogSoftMax is
-- needed at the end of the network. sizeAverage reaches the inner criterion at each call.
function SpatialCrossEntropyCriterion:__init(weights)
   parent.__init(self)
   self.slsm = cudnn.SpatialLogSoftMax()
   self.nll = nn.SpatialClassNLLCriterion(weights)
   self.sizeAverage = true
end

local function check(self, input, target, dims)
   local cls = torch.type(self)
   if not torch.isTensor(input) or input:dim() ~= dims then
      error(string.format('<%s> mini-batch supported only: input must be %dD, got %s', cls, dims,
                          torch.isTensor(input) and (input:dim() .. 'D') or torch.type(input)), 3)
   end
   if not torch.isTensor(target) or target:dim() ~= dims - 1 then
      error(string.format('<%s> mini-batch supported only: target must be %dD, got %s', cls, dims - 1,
                          torch.isTensor(target) and (target:dim() .. 'D') or torch.type(target)), 3)
   end
   local same = input:size(1) == target:size(1)
   for d = 3, dims do
      same = same and input:size(d) == target:size(d - 1)
   end
   if not same then
      error(string.format('<%s> input and target should be of same size (input %s, target %s)', cls,
                          table.concat(torch.totable(input:size()), 'x'),
                          table.concat(torch.totable(target:size()), 'x')), 3)
   end
end
SpatialCrossEntropyCriterion._check = check

function SpatialCrossEntropyCriterion:updateOutput(input, target)
   check(self, input, target, 4)
   self.slsm:updateOutput(input)
   self.nll.sizeAverage = self.sizeAverage
   self.nll:updateOutput(self.slsm.output, target)
   self.output = self.nll.output
   return self.output
end

function SpatialCrossEntropyCriterion:updateGradInput(input, target)
   check(self, input, target, 4)
   self.nll.sizeAverage = self.sizeAverage
   self.nll:updateGradInput(self.slsm.output, target)
   self.slsm:updateGradInput(input, self.nll.gradInput)
   self.gradInput = self.slsm.gradInput
   return self.gradInput
end

function SpatialCrossEntropyCriterion:type(type, tensorCache)
   if type then
      self.nll:type(type, tensorCache)
      self.slsm:type(type, tensorCache)
   end
   return parent.type(self, type, tensorCache)
end
