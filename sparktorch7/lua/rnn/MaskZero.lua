-- nn.MaskZero(module, nInputDim): runs module, then zeroes the output rows
-- (samples of a batch, or the whole output for one sample) whose input is all
-- zeros; the input tested is the first tensor of a (nested) table input.
-- torch/rnn's form, nn.MaskZero(module [, v1 [, maskinput [, maskoutput]]]) (no nInputDim,
-- batches only): the rows zeroed are those where the zeroMask given by setZeroMask(zeroMask)
-- is 1 (version 2, the default), or those of an all-zero input (v1 = true); maskoutput
-- (default true) zeroes them in a copy of the output, maskinput in the input itself.
local schema = require('nn.schema')
local zeromask = require('rnn.zeromask')
local MaskZero, parent = torch.class('nn.MaskZero', 'nn.Decorator')

schema.declare(MaskZero, {
   {'nInputDim', 'natural?'},
   {'batchmode', 'boolean?'},
   {'v2', 'boolean?'}, {'maskinput', 'boolean?'}, {'maskoutput', 'boolean?'},
   {'zeroMask', 'tensor|boolean?'}, {'_zeroMask', 'tensor?'},
   {'_maskbyte', 'tensor?'}, {'_maskindices', 'tensor?'},
})

function MaskZero:__init(module, nInputDim, silent, maskoutput)
   parent.__init(self, module)
   if not torch.isTypeOf(module, 'nn.Module') then
      error('<nn.MaskZero> expects an nn.Module at argument 1, got ' .. torch.type(module), 2)
   end
   if type(nInputDim) == 'number' then
      self.nInputDim = nInputDim
   elseif nInputDim == nil or type(nInputDim) == 'boolean' then
      -- torch/rnn: (module, v1, maskinput, maskoutput)
      self.v2 = not nInputDim
      self.maskinput = silent and true or false
      if maskoutput == nil then self.maskoutput = true else self.maskoutput = maskoutput and true or false end
   else
      error('<nn.MaskZero> expects nInputDim (a number) or v1 (a boolean, torch/rnn) at argument 2, got '
            .. torch.type(nInputDim), 2)
   end
end

-- torch/rnn's version: set by setZeroMask (a ByteTensor, 1 where masked, or false: no mask)
function MaskZero:setZeroMask(zeroMask)
   self.zeroMask = zeromask.check(torch.type(self), zeroMask)
end

local function maskOf(self, input)
   if self.v2 then
      if self.zeroMask == nil then
         error('<' .. torch.type(self) .. '> zero masking version 2 needs a zeroMask: call '
               .. 'setZeroMask(zeroMask) (a seqlen x batchsize ByteTensor, 1 where padded; false for none) '
               .. 'before forward', 3)
      end
   else
      self.zeroMask = zeromask.getZeroMaskBatch(input, torch.isTensor(self.zeroMask) and self.zeroMask or nil)
   end
   return self.zeroMask
end

-- torch/rnn's forward
local function updateOutputV2(self, input)
   local mask = maskOf(self, input)
   if self.maskinput and mask then zeromask.recursiveZeroMask(input, mask) end
   local output = self:rethrowErrors(self.modules[1], 1, 'updateOutput', input)
   if self.maskoutput ~= false and mask then
      self.output = rnn.recursiveCopy(self.output ~= output and self.output or nil, output)
      zeromask.recursiveZeroMask(self.output, mask)
   else
      self.output = output
   end
   return self.output
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
   if self.nInputDim == nil then
      if self.v2 == nil then
         error('<' .. torch.type(self) .. '> has neither nInputDim (Element-Research rnn) nor v2 (torch/rnn)', 2)
      end
      return updateOutputV2(self, input)
   end
   local mask = self:zeroMaskOf(input)
   local output = self:rethrowErrors(self.modules[1], 1, 'updateOutput', input)
   self.output = self:recursiveMask(self.output, output, mask)
   return self.output
end

-- backward: the masked rows get no gradient. Element-Research rnn's form zeroes them in the
-- gradOutput given to the module; torch/rnn's in the gradOutput (maskoutput) and in the
-- module's gradInput (maskinput)
local function maskedGradOutput(self, gradOutput)
   if self.nInputDim == nil then
      if self.maskoutput ~= false and torch.isTensor(self.zeroMask) then
         self._gradOutput = rnn.recursiveCopy(self._gradOutput, gradOutput)
         return zeromask.recursiveZeroMask(self._gradOutput, self.zeroMask)
      end
      return gradOutput
   end
   if not torch.isTensor(self.zeroMask) then
      error('<' .. torch.type(self) .. '> backward needs a forward first', 3)
   end
   self._gradOutput = self:recursiveMask(self._gradOutput, gradOutput, self.zeroMask)
   return self._gradOutput
end

local function maskedGradInput(self, gradInput)
   if self.nInputDim == nil and self.maskinput and torch.isTensor(self.zeroMask) then
      self._gradInput = rnn.recursiveCopy(self._gradInput, gradInput)
      return zeromask.recursiveZeroMask(self._gradInput, self.zeroMask)
   end
   return gradInput
end

function MaskZero:updateGradInput(input, gradOutput)
   local g = maskedGradOutput(self, gradOutput)
   self.gradInput = maskedGradInput(self, self:rethrowErrors(self.modules[1], 1, 'updateGradInput', input, g))
   return self.gradInput
end

function MaskZero:accGradParameters(input, gradOutput, scale)
   self:rethrowErrors(self.modules[1], 1, 'accGradParameters', input, maskedGradOutput(self, gradOutput), scale or 1)
end

function MaskZero:backward(input, gradOutput, scale)
   local g = maskedGradOutput(self, gradOutput)
   self.gradInput = maskedGradInput(self, self:rethrowErrors(self.modules[1], 1, 'backward', input, g, scale or 1))
   return self.gradInput
end

function MaskZero:clearState()
   self._gradOutput, self._gradInput = nil, nil
   return parent.clearState(self)
end

function MaskZero:type(typename, ...)
   if typename then
      self.zeroMask, self._zeroMask, self._maskbyte, self._maskindices = nil, nil, nil, nil
   end
   return parent.type(self, typename, ...)
end

return MaskZero
