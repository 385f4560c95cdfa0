-- nn.MaskZero(module, nInputDim): runs module, then zeroes the output rows
-- (samples of a batch, or the whole output for one sample) whose input is all
-- zeros; the input tested is the first tensor of a (nested) table input.
local schema = require('nn.schema')
local MaskZero, parent = torch.class('nn.MaskZero', 'nn.Decorator')

schema.declare(MaskZero, {
   {'nInputDim', 'natural'},
   {'batchmode', 'boolean?'},
   {'zeroMask', 'tensor|boolean?'}, {'_zeroMask', 'tensor?'},
   {'_maskbyte', 'tensor?'}, {'_maskindices', 'tensor?'},
})

function MaskZero:__init(module, nInputDim, silent)
   parent.__init(self, module)
   if not torch.isTypeOf(module, 'nn.Module') then
      error('<nn.MaskZero> expects an nn.Module at argument 1, got ' .. torch.type(module), 2)
   end
   if type(nInputDim) ~= 'number' then
      error('<nn.MaskZero> expects nInputDim (a number) at argument 2, got ' .. torch.type(nInputDim), 2)
   end
   self.nInputDim = nInputDim
end

function MaskZero:recursiveGetFirst(input)
   if torch.type(input) == 'table' then
      return self:recursiveGetFirst(input[1])
   end
   if not torch.isTensor(input) then
      error('<' .. torch.type(self) .. '> input must be a tensor or a table of tensors, got ' .. torch.type(input), 3)
   end
   return input
end

-- mask (ByteTensor, 1 where the sample is all zero) and whether input is a batch
function MaskZero:zeroMaskOf(input)
   local rmi = self:recursiveGetFirst(input):contiguous()
   if rmi:dim() == self.nInputDim then
      self.batchmode = false
      rmi = rmi:view(-1)
   elseif rmi:dim() - 1 == self.nInputDim then
      self.batchmode = true
      rmi = rmi:view(rmi:size(1), -1)
   else
      error(string.format('<%s> input has %d dimensions, nInputDim is %d (or %d for a batch)',
                          torch.type(self), rmi:dim(), self.nInputDim, self.nInputDim + 1), 3)
   end
   if not torch.isTensor(self._zeroMask) or torch.type(self._zeroMask) ~= torch.type(rmi) then
      self._zeroMask = nn.utils.newLike(rmi)
   end
   self._zeroMask:norm(rmi, 2, rmi:dim())
   self.zeroMask = torch.isTensor(self.zeroMask) and torch.type(self.zeroMask) == 'torch.ByteTensor'
      and self.zeroMask or torch.ByteTensor()
   self.zeroMask = self._zeroMask:eq(0)
   return self.zeroMask
end

function MaskZero:recursiveMask(output, input, mask)
   if torch.type(input) == 'table' then
      output = torch.type(output) == 'table' and output or {}
      for k, v in ipairs(input) do
         output[k] = self:recursiveMask(output[k], v, mask)
      end
      return output
   end
   output = (torch.isTensor(output) and torch.type(output) == torch.type(input) and output ~= input)
      and output or nn.utils.newLike(input)
   local size = input:size():fill(1)
   if self.batchmode then
      size[1] = input:size(1)
   end
   output:resizeAs(input):copy(input)
   output:maskedFill(mask:view(size):expandAs(input), 0)
   return output
end

function MaskZero:updateOutput(input)
   local mask = self:zeroMaskOf(input)
   local output = self:rethrowErrors(self.modules[1], 1, 'updateOutput', input)
   self.output = self:recursiveMask(self.output, output, mask)
   return self.output
end

function MaskZero:type(typename, ...)
   if typename then
      self.zeroMask, self._zeroMask, self._maskbyte, self._maskindices = nil, nil, nil, nil
   end
   return parent.type(self, typename, ...)
end

return MaskZero
