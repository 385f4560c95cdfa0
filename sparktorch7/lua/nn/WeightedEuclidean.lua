-- nn.WeightedEuclidean: y_j = ||c_j * (w_j - x)||, nn.Euclidean with a learnt
-- diagonal scale per centre (diagCov, inputSize x outputSize).
local schema = require('nn.schema')
local WeightedEuclidean, parent = torch.class('nn.WeightedEuclidean', 'nn.Module')

schema.declare(WeightedEuclidean, {
   {'weight', 'tensor', dim = 2},
   {'diagCov', 'tensor', size = {'weight:size(1)', 'weight:size(2)'}},
   {'gradWeight', 'tensor?'}, {'gradDiagCov', 'tensor?'},
})

function WeightedEuclidean:__init(inputSize, outputSize)
   parent.__init(self)
   self.weight = torch.Tensor(inputSize, outputSize)
   self.gradWeight = torch.Tensor(inputSize, outputSize)
   self.diagCov = torch.Tensor(inputSize, outputSize)
   self.gradDiagCov = torch.Tensor(inputSize, outputSize)
   self:reset()
end

function WeightedEuclidean:reset(stdv)
   if stdv then
      stdv = stdv * math.sqrt(3)
   else
      stdv = 1 / math.sqrt(self.weight:size(1))
   end
   self.weight:uniform(-stdv, stdv)
   self.diagCov:fill(1)
   return self
end

function WeightedEuclidean:parameters()
   return {self.weight, self.diagCov}, {self.gradWeight, self.gradDiagCov}
end

function WeightedEuclidean:updateOutput(input)
   return nn.Euclidean._distances(self, input, self.diagCov, 'nn.WeightedEuclidean')
end

function WeightedEuclidean:updateGradInput(input, gradOutput)
   return nn.Euclidean._updateGradInput(self, input, gradOutput, self.diagCov, 'nn.WeightedEuclidean')
end

function WeightedEuclidean:accGradParameters(input, gradOutput, scale)
   nn.Euclidean._accGradParameters(self, input, gradOutput, self.diagCov, 'nn.WeightedEuclidean', scale)
end

-- one step straight on the parameters: weight and diagCov stand in for their gradients
function WeightedEuclidean:defaultAccUpdateGradParameters(input, gradOutput, lr)
   local gw, gc = self.gradWeight, self.gradDiagCov
   self.gradWeight, self.gradDiagCov = self.weight, self.diagCov
   local ok, err = pcall(self.accGradParameters, self, input, gradOutput, -lr)
   self.gradWeight, self.gradDiagCov = gw, gc
   if not ok then error(err, 0) end
end

return WeightedEuclidean
