-- nn.BinaryLogisticRegression([sizeAverage = true]): dpnn's two-class logistic loss for
-- scores x and targets y in {-1, +1} (each N, 1 x N or N x 1):
-- sum(log(1 + exp(-y .* x))), divided by N when sizeAverage.
local schema = require('nn.schema')
local BinaryLogisticRegression, parent = torch.class('nn.BinaryLogisticRegression', 'nn.Criterion')

schema.declare(BinaryLogisticRegression, {
   {'sizeAverage', 'boolean?'},
})

function BinaryLogisticRegression:__init(sizeAverage)
   parent.__init(self)
   if sizeAverage ~= nil then self.sizeAverage = sizeAverage else self.sizeAverage = true end
end

local function checkVector(name, what, t)
   if not torch.isTensor(t) or (t:dim() ~= 1 and t:dim() ~= 2) or (t:dim() == 2 and t:size(1) ~= 1 and t:size(2) ~= 1) then
      local got = torch.isTensor(t) and (t:dim() .. 'D of size ' .. table.concat(t:size():totable(), 'x')) or torch.type(t)
      error(string.format('<%s> %s must be N, 1 x N or N x 1, got %s', name, what, got), 3)
   end
end

-- exp(-y .* x) and log(1 + exp(-y .* x)), kept for updateGradInput as dpnn does
function BinaryLogisticRegression:_terms(input, target)
   local base = nn.utils.newLike(input):resizeAs(input):copy(input)
   base:cmul(target:typeAs(input):viewAs(input)):mul(-1):exp()
   self._baseExponents = base
   self._coeff = base:clone():add(1)
   return self._coeff:clone():log():sum()
end

function BinaryLogisticRegression:updateOutput(input, target)
   local name = torch.type(self)
   checkVector(name, 'input', input)
   checkVector(name, 'target', target)
   if input:nElement() ~= target:nElement() then
      error(string.format('<%s> input has %d elements, target %d: they must match', name,
                          input:nElement(), target:nElement()), 2)
   end
   self._k = input:nElement()
   local x = input:contiguous():view(-1)
   local total = self:_terms(x, target:contiguous():view(-1))
   self.output = self.sizeAverage and total / self._k or total
   return self.output
end

function BinaryLogisticRegression:updateGradInput(input, target)
   if not self._baseExponents then
      error(string.format('<%s> updateGradInput needs a forward first', torch.type(self)), 2)
   end
   local g = target:typeAs(input):contiguous():view(-1):clone():mul(-1)
   g:cmul(self._baseExponents):cdiv(self._coeff)
   if self.sizeAverage then g:div(self._k) end
   self.gradInput = g:viewAs(input)
   return self.gradInput
end

return BinaryLogisticRegression
