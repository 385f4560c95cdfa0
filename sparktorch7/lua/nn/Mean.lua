-- nn.Mean: the mean of the input over dimension (nn.Sum with sizeAverage).
local schema = require('nn.schema')
local Mean, parent = torch.class('nn.Mean', 'nn.Sum')

schema.declare(Mean, {
   {'dimension', 'int?'},      -- older files may lack it (backCompatibility: 1)
})

function Mean:__init(dimension, nInputDims)
   parent.__init(self, dimension, nInputDims, true)
end

function Mean:backCompatibility(version)
   parent.backCompatibility(self, version)
   -- older files predate nn.Sum as the parent
   self.sizeAverage = true
   self.dimension = self.dimension or 1
end

function Mean:updateOutput(input)
   self.sizeAverage = true
   return parent.updateOutput(self, input)
end

return Mean
