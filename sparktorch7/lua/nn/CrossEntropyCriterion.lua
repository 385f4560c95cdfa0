-- nn.CrossEntropyCriterion: nn.LogSoftMax then nn.ClassNLLCriterion.
local schema = require('nn.schema')
local CrossEntropyCriterion, parent = torch.class('nn.CrossEntropyCriterion', 'nn.Criterion')

schema.declare(CrossEntropyCriterion, {
   {'lsm', 'module'}, {'nll', 'criterion'},
})

function CrossEntropyCriterion:__init(weights, sizeAverage)
   parent.__init(self)
   self.lsm = nn.LogSoftMax()
   self.nll = nn.ClassNLLCriterion(weights, sizeAverage)
   self.sizeAverage = self.nll.sizeAverage
end

function CrossEntropyCriterion:updateOutput(input, target)
   local logp = self.lsm:updateOutput(input)
   self.nll.sizeAverage = self.sizeAverage
   self.output = self.nll:updateOutput(logp, target)
   return self.output
end

return CrossEntropyCriterion
