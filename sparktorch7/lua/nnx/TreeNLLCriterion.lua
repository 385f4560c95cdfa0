-- nn.TreeNLLCriterion(): nnx's loss for nn.SoftMaxTree, whose output already holds the
-- log-likelihood of each row's target: the loss is minus their mean (target unused), the
-- gradient -1 / batch for each row.
local schema = require('nn.schema')
local TreeNLLCriterion, parent = torch.class('nn.TreeNLLCriterion', 'nn.Criterion')

schema.parameterless(TreeNLLCriterion, 'the mean of its input: no fields it relies on')

function TreeNLLCriterion:__init()
   parent.__init(self)
end

function TreeNLLCriterion:updateOutput(input, target)
   if not torch.isTensor(input) or input:dim() ~= 1 then
      error('<nn.TreeNLLCriterion> input must be the 1D output of nn.SoftMaxTree, got '
            .. (torch.isTensor(input) and (input:dim() .. 'D') or torch.type(input)), 2)
   end
   self.output = -input:mean()
   return self.output
end

function TreeNLLCriterion:updateGradInput(input, target)
   self.gradInput = nn.utils.newLike(input):resizeAs(input):fill(-1 / input:nElement())
   return self.gradInput
end

return TreeNLLCriterion
