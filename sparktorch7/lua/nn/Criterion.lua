-- nn.Criterion: the base of the loss functions. forward(input, target) gives
-- the loss (a number, also in self.output); backward(input, target) its
-- gradient with respect to the input (in self.gradInput).
local pointwise = require('nn.pointwise')
local tablegrad = require('nn.tablegrad')
local schema = require('nn.schema')
local Criterion = torch.class('nn.Criterion')

-- fields every criterion may hold (what a subclass declares is added to these)
schema.declare(Criterion, {
   {'output', 'number|tensor|table?'},
   {'gradInput', 'tensor|table|number?'},
   {'sizeAverage', 'boolean?'},
   {'_type', 'string?'},
})

function Criterion:__init()
   self.gradInput = torch.Tensor()
   self.output = 0
end

function Criterion:updateOutput(input, target)
   return self.output
end

function Criterion:forward(input, target)
   return self:updateOutput(input, target)
end

function Criterion:__call__(input, target)
   return self:forward(input, target)
end

function Criterion:clone()
   return nn.utils.deepCopy(self)
end

function Criterion:type(typename, tensorCache)
   if not typename then
      return self._type or torch.typename(self.gradInput)
   end
   typename = nn.utils.cpuType(typename)
   tensorCache = tensorCache or {}
   for key, value in pairs(self) do
      self[key] = nn.utils.recursiveType(value, typename, tensorCache)
   end
   self._type = typename
   return self
end

function Criterion:float() return self:type('torch.FloatTensor') end
function Criterion:double() return self:type('torch.DoubleTensor') end
function Criterion:cuda() return self:type('torch.FloatTensor') end

function Criterion:read(file, version)
   local pos = type(file._tell) == 'function' and file:_tell() or nil
   local fields = file:readObject()
   schema.checkFields(torch.typename(self), fields, file, pos)
   for k, v in pairs(fields) do
      self[k] = v
   end
   schema.check(self, file, pos)
end

function Criterion:write(file)
   local fields = {}
   for k, v in pairs(self) do
      fields[k] = v
   end
   file:writeObject(fields)
end

-- Pointers to input and target as contiguous data of one element count.
function Criterion:_pair(input, target)
   if torch.isTensor(input) and type(target) == 'number' then
      -- kept on self: the pointer returned does not keep the tensor alive
      self._numberTarget = self._numberTarget or nn.utils.newLike(input)
      target = self._numberTarget:resize(input:nElement()):fill(target)
   end
   if not torch.isTensor(input) or not torch.isTensor(target) then
      error(string.format('<%s> input and target must be tensors', torch.type(self)), 3)
   end
   if input:nElement() ~= target:nElement() then
      error(string.format('<%s> input has %d elements, target %d', torch.type(self),
                          input:nElement(), target:nElement()), 3)
   end
   local x, t = pointwise.contiguous(input), pointwise.contiguous(target)
   return x:data(), t:data(), x:nElement()
end

-- self.gradInput (or, with k, its element k, self.gradInput becoming a table)
-- made a contiguous tensor of input's type and size, kept between calls when
-- it fits; returns it and its data pointer.
function Criterion:_gradLike(input, k)
   if k then
      return tablegrad.like(self, k, input)
   end
   return tablegrad.slot(self, 'gradInput', input)
end

-- 1 / (number of elements) with sizeAverage, else 1: the factor of the
-- elementwise criterions' gradients.
function Criterion:_norm(n)
   if self.sizeAverage ~= false and n > 0 then
      return 1 / n
   end
   return 1
end

function Criterion:__tostring__()
   return torch.type(self)
end

-- Torch7: a criterion's backward is its updateGradInput.
function Criterion:updateGradInput(input, target)
   if torch.type(self) ~= 'nn.Criterion' then
      error(string.format('<%s> updateGradInput is not implemented in sparktorch7 yet',
                          torch.type(self)), 2)
   end
   return self.gradInput
end

function Criterion:backward(input, target)
   return self:updateGradInput(input, target)
end

return Criterion
