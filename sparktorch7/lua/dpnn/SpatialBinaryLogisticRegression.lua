-- nn.SpatialBinaryLogisticRegression(): dpnn's per-pixel two-class logistic loss for a
-- 1 x H x W score map (or B x 1 x H x W) and targets in {-1, +1} of the same size:
-- sum(log(1 + exp(-y .* x))) / (2 * B * H * W) (sizeAverage; else / (2 * H * W)).
local schema = require('nn.schema')
local SpatialBinaryLogisticRegression, parent = torch.class('nn.SpatialBinaryLogisticRegression', 'nn.Criterion')

schema.declare(SpatialBinaryLogisticRegression, {
   {'sizeAverage', 'boolean?'},
})

function SpatialBinaryLogisticRegression:__init()
   parent.__init(self)
   self.sizeAverage = true
end

function SpatialBinaryLogisticRegression:updateOutput(input, target)
   local name = torch.type(self)
   local function shape(t)
      return torch.isTensor(t) and table.concat(t:size():totable(), 'x') or torch.type(t)
   end
   if not torch.isTensor(input) or (input:dim() ~= 3 and input:dim() ~= 4)
      or input:size(input:dim() - 2) ~= 1 then
      error(string.format('<%s> input must be 1 x H x W or B x 1 x H x W, got %s', name, shape(input)), 2)
   end
   if not torch.isTensor(target) or not target:isSameSizeAs(input) then
      error(string.format('<%s> target must have the size of input (%s), got %s', name, shape(input),
                          shape(target)), 2)
   end
   local d = input:dim()
   self._k = d == 4 and input:size(1) or 1
   self._h, self._w = input:size(d - 1), input:size(d)
   local total = nn.BinaryLogisticRegression._terms(self, input:contiguous(), target:contiguous())
   self.output = total / self:_divisor()
   return self.output
end

function SpatialBinaryLogisticRegression:_divisor()
   return self.sizeAverage and 2 * self._k * self._h * self._w or 2 * self._h * self._w
end

function SpatialBinaryLogisticRegression:updateGradInput(input, target)
   if not self._baseExponents then
      error(string.format('<%s> updateGradInput needs a forward first', torch.type(self)), 2)
   end
   local g = target:typeAs(input):clone():mul(-1)
   g:cmul(self._baseExponents):cdiv(self._coeff):div(self:_divisor())
   self.gradInput = g
   return self.gradInput
end

return SpatialBinaryLogisticRegression
