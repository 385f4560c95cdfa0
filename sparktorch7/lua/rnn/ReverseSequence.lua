-- nn.ReverseSequence(): torch/rnn's reversal of a sequence along time: a tensor's first
-- dimension (seqlen x ...) or a table of steps (the same step tensors, in reverse order).
local schema = require('nn.schema')
local ReverseSequence, parent = torch.class('nn.ReverseSequence', 'nn.Module')

schema.declare(ReverseSequence, {
   {'_range', 'tensor?'},
})

local function reversed(self, input, out, what)
   if torch.isTensor(input) then
      if input:dim() < 1 then
         error('<' .. torch.type(self) .. '> ' .. what .. ' must be a sequence (seqlen x ...), got an empty tensor', 3)
      end
      local T = input:size(1)
      if not torch.isTensor(self._range) or self._range:nElement() ~= T then
         self._range = torch.range(T, 1, -1):long()
      end
      out = (torch.isTensor(out) and torch.type(out) == torch.type(input) and out ~= input) and out
         or nn.utils.newLike(input)
      out:index(input, 1, self._range)
      return out
   end
   if type(input) ~= 'table' or torch.typename(input) then
      error('<' .. torch.type(self) .. '> ' .. what .. ' must be a tensor (seqlen x ...) or a table of steps, got '
            .. torch.type(input), 3)
   end
   local steps = {}
   for i = #input, 1, -1 do steps[#steps + 1] = input[i] end
   return steps
end

function ReverseSequence:updateOutput(input)
   self.output = reversed(self, input, self.output, 'input')
   return self.output
end

function ReverseSequence:updateGradInput(input, gradOutput)
   self.gradInput = reversed(self, gradOutput, self.gradInput, 'gradOutput')
   return self.gradInput
end

function ReverseSequence:clearState()
   self.output = torch.Tensor()
   self.gradInput = torch.Tensor()
   self._range = nil
   return self
end

function ReverseSequence:type(typename, ...)
   if typename then self:clearState() end
   return parent.type(self, typename, ...)
end

return ReverseSequence
