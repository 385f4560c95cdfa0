-- nn.BiSequencerLM(forward, backward, merge): the bidirectional sequencer of
-- language models: step t merges the forward module's output after steps
-- 1..t-1 and the backward module's after steps t+1..T (zeros at the ends),
-- so no step sees its own input.
local schema = require('nn.schema')
local BiSequencerLM, parent = torch.class('nn.BiSequencerLM', 'nn.AbstractSequencer')

schema.declare(BiSequencerLM, {
   {'forwardModule', 'module?'}, {'backwardModule', 'module?'}, {'mergeModule', 'module?'},
   {'fwdSeq', 'module|boolean?'}, {'bwdSeq', 'module|boolean?'}, {'mergeSeq', 'module?'},
   {'_fwd', 'module|boolean?'}, {'_bwd', 'module?'}, {'_merge', 'module?'},
})

function BiSequencerLM:__init(forward, backward, merge)
   if not torch.isTypeOf(forward, 'nn.Module') then
      error('<nn.BiSequencerLM> expects an nn.Module at argument 1, got ' .. torch.type(forward), 2)
   end
   self.forwardModule = forward
   self.backwardModule = backward
   if not self.backwardModule then
      self.backwardModule = forward:clone()
      self.backwardModule:reset()
   end
   if not torch.isTypeOf(self.backwardModule, 'nn.Module') then
      error('<nn.BiSequencerLM> expects an nn.Module at argument 2, got ' .. torch.type(self.backwardModule), 2)
   end
   if type(merge) == 'number' then
      self.mergeModule = nn.JoinTable(1, merge)
   elseif merge == nil then
      self.mergeModule = nn.JoinTable(1, 1)
   elseif torch.isTypeOf(merge, 'nn.Module') then
      self.mergeModule = merge
   else
      error('<nn.BiSequencerLM> expects an nn.Module or a number at argument 3, got ' .. torch.type(merge), 2)
   end
   self.fwdSeq = torch.isTypeOf(self.forwardModule, 'nn.AbstractRecurrent') and nn.Sequencer(self.forwardModule)
      or self.forwardModule
   self.bwdSeq = torch.isTypeOf(self.backwardModule, 'nn.AbstractRecurrent') and nn.Sequencer(self.backwardModule)
      or self.backwardModule
   self.mergeSeq = nn.Sequencer(self.mergeModule)
   self._fwd = self.fwdSeq
   self._bwd = nn.Sequential():add(nn.ReverseTable()):add(self.bwdSeq):add(nn.ReverseTable())
   self._merge = nn.Sequential():add(nn.ZipTable()):add(self.mergeSeq)
   parent.__init(self)
   self.modules = {self._fwd, self._bwd, self._merge}
   self.output = {}
   self.gradInput = {}
end

function BiSequencerLM:updateOutput(input)
   if type(input) ~= 'table' or torch.isTensor(input) or #input < 2 then
      error('<nn.BiSequencerLM> input must be a table of at least 2 steps', 2)
   end
   local n = #input
   local first, last = {}, {}
   for i = 1, n - 1 do
      first[i] = input[i]
      last[i] = input[i + 1]
   end
   self._fwdOutput = self:rethrowErrors(self._fwd, 1, 'updateOutput', first)
   self._bwdOutput = self:rethrowErrors(self._bwd, 2, 'updateOutput', last)
   self._firstStep = rnn.recursiveResizeAs(self._firstStep, self._fwdOutput[1])
   rnn.recursiveFill(self._firstStep, 0)
   self._lastStep = rnn.recursiveResizeAs(self._lastStep, self._bwdOutput[1])
   rnn.recursiveFill(self._lastStep, 0)
   local fwd, bwd = {self._firstStep}, {}
   for i, v in ipairs(self._fwdOutput) do fwd[i + 1] = v end
   for i, v in ipairs(self._bwdOutput) do bwd[i] = v end
   bwd[#bwd + 1] = self._lastStep
   self._mergeInput = {fwd, bwd}
   self.output = self:rethrowErrors(self._merge, 3, 'updateOutput', self._mergeInput)
   return self.output
end

-- backward: merge, then the forward sequencer over steps 1..T-1 with the gradients of merge
-- inputs 2..T, the backward one over steps 2..T with those of 1..T-1; step t's gradient sums
-- the two (step 1 only the forward's, step T only the backward's)
local function steps(t, from, to)
   local out = {}
   for i = from, to do out[#out + 1] = t[i] end
   return out
end

local function eachPart(self, method, input, gradOutput, scale)
   if not self._mergeInput or #self._fwdOutput ~= #input - 1 then
      error('<nn.BiSequencerLM> backward needs the forward of the same input first', 3)
   end
   local n = #input
   local gm = self:rethrowErrors(self._merge, 3, method, self._mergeInput, gradOutput, scale)
   if method == 'accGradParameters' then gm = self._mergeGradInput else self._mergeGradInput = gm end
   local gf = self:rethrowErrors(self._fwd, 1, method, steps(input, 1, n - 1), steps(gm[1], 2, n), scale)
   local gb = self:rethrowErrors(self._bwd, 2, method, steps(input, 2, n), steps(gm[2], 1, n - 1), scale)
   if method == 'accGradParameters' then return end
   if type(self.gradInput) ~= 'table' or torch.typename(self.gradInput) then self.gradInput = {} end
   for i = 1, n do
      if i == 1 then
         self.gradInput[i] = rnn.recursiveCopy(self.gradInput[i], gf[1])
      elseif i == n then
         self.gradInput[i] = rnn.recursiveCopy(self.gradInput[i], gb[n - 1])
      else
         self.gradInput[i] = rnn.recursiveCopy(self.gradInput[i], gf[i])
         rnn.recursiveAdd(self.gradInput[i], gb[i - 1])
      end
   end
   for i = n + 1, #self.gradInput do self.gradInput[i] = nil end
   return self.gradInput
end

function BiSequencerLM:updateGradInput(input, gradOutput)
   return eachPart(self, 'updateGradInput', input, gradOutput)
end

function BiSequencerLM:accGradParameters(input, gradOutput, scale)
   eachPart(self, 'accGradParameters', input, gradOutput, scale or 1)
end

function BiSequencerLM:backward(input, gradOutput, scale)
   return eachPart(self, 'backward', input, gradOutput, scale or 1)
end

return BiSequencerLM
