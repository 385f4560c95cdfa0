-- nn.CrossEntropyCriterion: nn.LogSoftMax then nn.ClassNLLCriterion, on the
-- input with its singleton dimensions squeezed out (as Torch7). Setting
-- sizeAverage on this criterion reaches the inner ClassNLLCriterion at the
-- next call; setting nll.sizeAverage directly also works while sizeAverage is
-- left alone.
local schema = require('nn.schema')
local CrossEntropyCriterion, parent = torch.class('nn.CrossEntropyCriterion', 'nn.Criterion')

schema.declare(CrossEntropyCriterion, {
   {'lsm', 'module'}, {'nll', 'criterion'}, {'oldSizeAverage', 'boolean?'},
})

function CrossEntropyCriterion:__init(weights, sizeAverage)
   parent.__init(self)
   self.lsm = nn.LogSoftMax()
   self.nll = nn.ClassNLLCriterion(weights, sizeAverage)
   self.sizeAverage = self.nll.sizeAverage
   self.oldSizeAverage = self.sizeAverage
end

-- squeezed input and target; a changed self.sizeAverage passed to nll
function CrossEntropyCriterion:_prepare(input, target)
   if not torch.isTensor(input) then
      error(string.format('<nn.CrossEntropyCriterion> input must be a tensor, not a %s',
                          torch.type(input)), 3)
   end
   if self.sizeAverage ~= self.oldSizeAverage then
      self.nll.sizeAverage = self.sizeAverage
   end
   self.oldSizeAverage = self.sizeAverage
   input = input:squeeze()
   if torch.isTensor(target) then
      target = target:squeeze()
   end
   return input, target
end

function CrossEntropyCriterion:updateOutput(input, target)
   local x, t = self:_prepare(input, target)
   self.lsm:updateOutput(x)
   self.output = self.nll:updateOutput(self.lsm.output, t)
   return self.output
end

-- nll's gradient back through the log-softmax, viewed in the input's size
function CrossEntropyCriterion:updateGradInput(input, target)
   local x, t = self:_prepare(input, target)
   self.nll:updateGradInput(self.lsm.output, t)
   self.lsm:updateGradInput(x, self.nll.gradInput)
   local g = self.lsm.gradInput
   if not g:isContiguous() then
      g = g:contiguous()
   end
   self.gradInput = g:view(input:size())
   return self.gradInput
end

return CrossEntropyCriterion
