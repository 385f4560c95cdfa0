-- nn.SeqReverseSequence(dim): reverses a tensor (up to 3D) along dim, the
-- time dimension (1 for seqlen x batch x size).
local schema = require('nn.schema')
local SeqReverseSequence, parent = torch.class('nn.SeqReverseSequence', 'nn.Module')

schema.declare(SeqReverseSequence, {
   {'dim', 'posint', max = 3},
   {'outputIndices', 'tensor?'}, {'gradIndices', 'tensor?'},
})

function SeqReverseSequence:__init(dim)
   parent.__init(self)
   if type(dim) ~= 'number' or dim < 1 or dim > 3 then
      error('<nn.SeqReverseSequence> expects the dimension to reverse (1, 2 or 3), got ' .. tostring(dim), 2)
   end
   self.output = torch.Tensor()
   self.gradInput = torch.Tensor()
   self.dim = dim
end

function SeqReverseSequence:updateOutput(input)
   if not torch.isTensor(input) or input:dim() < self.dim or input:dim() > 3 then
      error(string.format('<nn.SeqReverseSequence> input must be a tensor of %d to 3 dimensions, got %s',
                          self.dim, torch.isTensor(input) and (input:dim() .. 'D') or torch.type(input)), 2)
   end
   local T = input:size(self.dim)
   local idx = torch.LongTensor(T)
   for t = 1, T do idx[t] = T - t + 1 end
   if not torch.isTensor(self.output) or torch.type(self.output) ~= torch.type(input) or self.output == input then
      self.output = nn.utils.newLike(input)
   end
   self.output:index(input, self.dim, idx)
   return self.output
end

-- the gradient reversed back along dim
function SeqReverseSequence:updateGradInput(input, gradOutput)
   if not torch.isTensor(gradOutput) or not gradOutput:isSameSizeAs(input) then
      error(string.format('<nn.SeqReverseSequence> gradOutput must be sized as the input (%s), got %s',
                          table.concat(input:size():totable(), 'x'), torch.isTensor(gradOutput)
                          and table.concat(gradOutput:size():totable(), 'x') or torch.type(gradOutput)), 2)
   end
   local T = input:size(self.dim)
   local idx = torch.LongTensor(T)
   for t = 1, T do idx[t] = T - t + 1 end
   if not torch.isTensor(self.gradInput) or torch.type(self.gradInput) ~= torch.type(input) then
      self.gradInput = nn.utils.newLike(input)
   end
   self.gradInput:index(gradOutput, self.dim, idx)
   return self.gradInput
end

function SeqReverseSequence:type(typename, cache)
   if typename then
      self.outputIndices, self.gradIndices = nil, nil
   end
   return parent.type(self, typename, cache)
end

function SeqReverseSequence:clearState()
   self.output = nn.utils.newLike(self.output)
   self.gradInput = nn.utils.newLike(self.gradInput)
   self.outputIndices, self.gradIndices = nil, nil
   return self
end

return SeqReverseSequence
