-- nn.SpatialClassNLLCriterion: nn.ClassNLLCriterion at every pixel of a map. The input
-- holds log-probabilities N x C x H x W, the target the classes N x H x W (1-based); the
-- loss is -sum w[t] x[n][t][h][w], divided by the total weight of the targets with
-- sizeAverage. The sums run in a NumPy kernel (nn.kernels.spatial_class_nll).
local kernels = require('nn.kernels')
local schema = require('nn.schema')
local SpatialClassNLLCriterion, parent = torch.class('nn.SpatialClassNLLCriterion', 'nn.Criterion')

schema.declare(SpatialClassNLLCriterion, {
   {'weights', 'tensor?', dim = 1},
   {'output_tensor', 'tensor?'}, {'total_weight_tensor', 'tensor?'}, {'target', 'tensor?'},
})

local NAME = '<nn.SpatialClassNLLCriterion>'

function SpatialClassNLLCriterion:__init(weights, sizeAverage)
   parent.__init(self)
   if sizeAverage ~= nil then self.sizeAverage = sizeAverage else self.sizeAverage = true end
   if weights then
      if not torch.isTensor(weights) or weights:dim() ~= 1 then
         error(NAME .. ' weights must be a 1D tensor', 2)
      end
      self.weights = weights
   end
   self.output_tensor = torch.zeros(1)
   self.total_weight_tensor = torch.ones(1)
   self.target = torch.zeros(1):long()
end

function SpatialClassNLLCriterion:__len()
   return self.weights and self.weights:nElement() or 0
end

-- The checked target as a LongTensor (Torch7 casts it), kept in self.target.
function SpatialClassNLLCriterion:_target(input, target)
   if not torch.isTensor(input) or input:dim() ~= 4 then
      error(string.format('%s input must be a 4D tensor (batch x classes x height x width), not %s', NAME,
                          nn.utils.describe(input)), 3)
   end
   if not torch.isTensor(target) or target:dim() ~= 3 then
      error(string.format('%s target must be a 3D tensor (batch x height x width) of classes, not %s', NAME,
                          nn.utils.describe(target)), 3)
   end
   if target:size(1) ~= input:size(1) or target:size(2) ~= input:size(3) or target:size(3) ~= input:size(4) then
      error(string.format('%s size mismatch: the target must be %dx%dx%d for an input of size %s, not %s', NAME,
                          input:size(1), input:size(3), input:size(4),
                          table.concat(input:size():totable(), 'x'), nn.utils.describe(target)), 3)
   end
   local nClass = input:size(2)
   if self.weights and self.weights:nElement() ~= nClass then
      error(string.format('%s weights has %d elements, the input %d classes', NAME,
                          self.weights:nElement(), nClass), 3)
   end
   local t = target:long()
   local lo, hi = t:min(), t:max()
   if lo < 1 or hi > nClass then
      error(string.format('%s target %d out of range [1, %d]', NAME, lo < 1 and lo or hi, nClass), 3)
   end
   self.target = t
   return t
end

-- Returns the loss and the total weight of the targets, as Torch7.
function SpatialClassNLLCriterion:updateOutput(input, target)
   local t = self:_target(input, target)
   if torch.type(self.output_tensor) ~= torch.type(input) then
      self.output_tensor = input.new(1)
   end
   if torch.type(self.total_weight_tensor) ~= torch.type(input) then
      self.total_weight_tensor = input.new(1)
   end
   kernels.spatial_class_nll(self.output_tensor, self.total_weight_tensor, input, t,
                             self.weights and self.weights:typeAs(input), self.sizeAverage)
   self.output = self.output_tensor[1]
   return self.output, self.total_weight_tensor[1]
end

-- dE/dx[n][t][h][w] = -w[t] (divided by the total weight with sizeAverage), 0 elsewhere.
function SpatialClassNLLCriterion:updateGradInput(input, target)
   local t = self:_target(input, target)
   local g = kernels.output(self, input, nil, 'gradInput')
   kernels.spatial_class_nll_grad(g, t, self.weights and self.weights:typeAs(input), self.sizeAverage)
   return g
end

return SpatialClassNLLCriterion
