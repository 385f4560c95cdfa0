-- nn.TrimZero(module, nInputDim): like nn.MaskZero, but the all-zero samples
-- of a batch are left out of the module's input (it runs on the others only)
-- and get zero output rows.
local schema = require('nn.schema')
local TrimZero, parent = torch.class('nn.TrimZero', 'nn.MaskZero')

schema.declare(TrimZero, {
   {'temp', 'tensor|table?'},     -- the trimmed input (a table for a table input)
})

function TrimZero:__init(module, nInputDim, silent)
   parent.__init(self, module, nInputDim, silent)
   self.temp = torch.Tensor()
end

-- the rows of input kept (indices of the non-zero samples)
local function keptRows(mask)
   local m = mask:view(-1)
   local idx = {}
   for i = 1, m:size(1) do
      if m[i] == 0 then idx[#idx + 1] = i end
   end
   return idx
end

function TrimZero:recursiveTrim(output, input, kept)
   if torch.type(input) == 'table' then
      output = torch.type(output) == 'table' and output or {}
      for k, v in ipairs(input) do
         output[k] = self:recursiveTrim(output[k], v, kept)
      end
      return output
   end
   output = (torch.isTensor(output) and torch.type(output) == torch.type(input)) and output or nn.utils.newLike(input)
   if self.batchmode then
      if #kept > 0 then
         output:index(input, 1, torch.LongTensor(kept))
      else
         output:index(input, 1, torch.LongTensor({1})):zero()
      end
   elseif #kept == 0 then
      output:resize(input:size()):zero()
   else
      output:resize(input:size()):copy(input)
   end
   return output
end

function TrimZero:recursiveUnTrim(output, input, kept, n)
   if torch.type(input) == 'table' then
      output = torch.type(output) == 'table' and output or {}
      for k, v in ipairs(input) do
         output[k] = self:recursiveUnTrim(output[k], v, kept, n)
      end
      return output
   end
   output = (torch.isTensor(output) and torch.type(output) == torch.type(input) and output ~= input)
      and output or nn.utils.newLike(input)
   local size = input:size()
   if self.batchmode then
      size[1] = n
   end
   output:resize(size):zero()
   if self.batchmode then
      if #kept > 0 then
         output:indexCopy(1, torch.LongTensor(kept), input)
      end
   elseif #kept > 0 then
      output:copy(input)
   end
   return output
end

function TrimZero:updateOutput(input)
   local mask = self:zeroMaskOf(input)
   local kept = keptRows(mask)
   self._maskindices = torch.LongTensor(#kept > 0 and kept or {})
   self.temp = self:recursiveTrim(self.temp, input, kept)
   local output = self:rethrowErrors(self.modules[1], 1, 'updateOutput', self.temp)
   self.output = self:recursiveUnTrim(self.output, output, kept, mask:nElement())
   return self.output
end

-- backward on the kept rows only: the module sees the trimmed input and gradOutput, the
-- trimmed-away rows get zero gradient
local function trimmedGrad(self, gradOutput)
   if not torch.isTensor(self._maskindices) then
      error('<nn.TrimZero> backward needs a forward first', 3)
   end
   local kept = self._maskindices:nElement() > 0 and self._maskindices:totable() or {}
   self._gradOutputTrim = self:recursiveTrim(self._gradOutputTrim, gradOutput, kept)
   return self._gradOutputTrim, kept
end

local function untrim(self, input, gradInput, kept)
   local n = self.zeroMask:nElement()
   self.gradInput = self:recursiveUnTrim(torch.type(self.gradInput) == torch.type(gradInput) and self.gradInput
                                         or nil, gradInput, kept, n)
   return self.gradInput
end

function TrimZero:updateGradInput(input, gradOutput)
   local g, kept = trimmedGrad(self, gradOutput)
   return untrim(self, input, self:rethrowErrors(self.modules[1], 1, 'updateGradInput', self.temp, g), kept)
end

function TrimZero:accGradParameters(input, gradOutput, scale)
   local g = trimmedGrad(self, gradOutput)
   self:rethrowErrors(self.modules[1], 1, 'accGradParameters', self.temp, g, scale or 1)
end

function TrimZero:backward(input, gradOutput, scale)
   local g, kept = trimmedGrad(self, gradOutput)
   return untrim(self, input, self:rethrowErrors(self.modules[1], 1, 'backward', self.temp, g, scale or 1), kept)
end

return TrimZero
