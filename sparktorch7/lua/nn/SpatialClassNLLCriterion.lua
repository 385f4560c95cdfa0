-- nn.SpatialClassNLLCriterion: nn.ClassNLLCriterion at every pixel of a batch of maps,
-- input batch x classes x H x W (log-probabilities), target batch x H x W (1-based
-- classes): -sum w[t] x[t], divided by the total weight of the targets with sizeAverage.
local schema = require('nn.schema')
local SpatialClassNLLCriterion, parent = torch.class('nn.SpatialClassNLLCriterion', 'nn.Criterion')

schema.declare(SpatialClassNLLCriterion, {
   {'weights', 'tensor?', dim = 1},
   {'output_tensor', 'tensor?'}, {'total_weight_tensor', 'tensor?'}, {'target', 'tensor?'},
})

function SpatialClassNLLCriterion:__init(weights, sizeAverage)
   parent.__init(self)
   if sizeAverage ~= nil then self.sizeAverage = sizeAverage else self.sizeAverage = true end
   if weights then
      if not torch.isTensor(weights) or weights:dim() ~= 1 then
         error('<nn.SpatialClassNLLCriterion> weights input should be 1-D Tensor', 2)
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

-- the targets as batch x 1 x H x W longs (checked), and the weight of each (same size)
function SpatialClassNLLCriterion:_targets(input, target)
   local cls = torch.type(self)
   if not torch.isTensor(input) or input:dim() ~= 4 then
      error(string.format('<%s> only batches of spatial inputs supported (4D tensors), but got %s',
                          cls, torch.isTensor(input) and (input:dim() .. 'D') or torch.type(input)), 3)
   end
   if not torch.isTensor(target) or target:dim() ~= 3 then
      error(string.format('<%s> only batches of spatial targets supported (3D tensors), but got %s',
                          cls, torch.isTensor(target) and (target:dim() .. 'D') or torch.type(target)), 3)
   end
   local n, c, h, w = input:size(1), input:size(2), input:size(3), input:size(4)
   if target:size(1) ~= n or target:size(2) ~= h or target:size(3) ~= w then
      error(string.format('<%s> size mismatch (got input: %dx%dx%dx%d, target: %dx%dx%d)', cls,
                          n, c, h, w, target:size(1), target:size(2), target:size(3)), 3)
   end
   if self.weights and self.weights:nElement() ~= c then
      error(string.format('<%s> weight tensor should be defined either for all or no classes '
                          .. '(%d weights, %d classes)', cls, self.weights:nElement(), c), 3)
   end
   local t = target:long()
   local lo, hi = t:min(), t:max()
   if lo < 1 or hi > c then
      error(string.format('<%s> target %d out of range [1, %d]', cls, lo < 1 and lo or hi, c), 3)
   end
   self.target = t
   local idx = t:view(n, 1, h, w)
   local wt
   if self.weights then
      wt = self.weights:typeAs(input):index(1, t:view(-1)):view(n, 1, h, w)
   else
      wt = input.new():resize(n, 1, h, w):fill(1)
   end
   return idx, wt
end

function SpatialClassNLLCriterion:updateOutput(input, target)
   local idx, wt = self:_targets(input, target)
   local total = wt:sum()
   local out = -input:gather(2, idx):cmul(wt):sum()
   if self.sizeAverage and total ~= 0 then
      out = out / total
   end
   self.output_tensor = self.output_tensor or torch.zeros(1)
   self.total_weight_tensor = self.total_weight_tensor or torch.ones(1)
   self.output_tensor[1] = out
   self.total_weight_tensor[1] = total
   self.output = out
   return out, total
end

-- dE/dx[b][t][h][w] = -w[t] (divided by the total weight with sizeAverage); all 0 when
-- the targets weigh nothing
function SpatialClassNLLCriterion:updateGradInput(input, target)
   local idx, wt = self:_targets(input, target)
   local gt = self:_gradLike(input)
   gt:zero()
   local total = wt:sum()
   if total <= 0 then
      return gt
   end
   gt:scatter(2, idx, wt:mul(-1 / (self.sizeAverage and total or 1)))
   return gt
end

return SpatialClassNLLCriterion
