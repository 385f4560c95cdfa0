-- nn.BiSequencer(forward, backward, merge): a bidirectional sequencer over a
-- table of steps: the forward module reads the steps in order, the backward
-- module (a reset clone of forward by default) in reverse, and step t's
-- output is merge{fwd(t), bwd(t)} (by default nn.JoinTable(1, 1), the two
-- concatenated along the feature dimension).
-- torch/rnn's BiSequencer (its files: no forwardModule; built by nn.SeqBLSTM/SeqBGRU) holds
-- Sequential{ConcatTable{forward, ReverseUnreverse(backward)}, merge (CAddTable)} and takes
-- a seqlen x batch x size tensor or a table of steps.
local schema = require('nn.schema')
local BiSequencer, parent = torch.class('nn.BiSequencer', 'nn.AbstractSequencer')

-- forwardModule/backwardModule/mergeModule and their Sequencers are parts of `module`
schema.declare(BiSequencer, {
   {'modules', 'modules?', check = schema.decorated},
   {'module', 'module?'},
   {'forwardModule', 'module?'}, {'backwardModule', 'module?'}, {'mergeModule', 'module?'},
   {'fwdSeq', 'module?'}, {'bwdSeq', 'module?'}, {'mergeSeq', 'module?'},
})

function BiSequencer:__init(forward, backward, merge)
   if not torch.isTypeOf(forward, 'nn.Module') then
      error('<nn.BiSequencer> expects an nn.Module at argument 1, got ' .. torch.type(forward), 2)
   end
   self.forwardModule = forward
   self.backwardModule = backward
   if not self.backwardModule then
      self.backwardModule = forward:clone()
      self.backwardModule:reset()
   end
   if not torch.isTypeOf(self.backwardModule, 'nn.Module') then
      error('<nn.BiSequencer> expects an nn.Module at argument 2, got ' .. torch.type(self.backwardModule), 2)
   end
   if type(merge) == 'number' then
      self.mergeModule = nn.JoinTable(1, merge)
   elseif merge == nil then
      self.mergeModule = nn.JoinTable(1, 1)
   elseif torch.isTypeOf(merge, 'nn.Module') then
      self.mergeModule = merge
   else
      error('<nn.BiSequencer> expects an nn.Module or a number at argument 3, got ' .. torch.type(merge), 2)
   end
   self.fwdSeq = nn.Sequencer(self.forwardModule)
   self.bwdSeq = nn.Sequencer(self.backwardModule)
   self.mergeSeq = nn.Sequencer(self.mergeModule)
   local backwardPath = nn.Sequential()
      :add(nn.ReverseTable())
      :add(self.bwdSeq)
      :add(nn.ReverseTable())
   local brnn = nn.Sequential()
      :add(nn.ConcatTable():add(self.fwdSeq):add(backwardPath))
      :add(nn.ZipTable())
      :add(self.mergeSeq)
   parent.__init(self)
   self.output = {}
   self.gradInput = {}
   self.module = brnn
   self.modules[1] = brnn
end

-- torch/rnn's layout: modules[1] = Sequential{ConcatTable{fwd, ReverseUnreverse(bwd)}, merge}
function BiSequencer:_torchrnn()
   return self.forwardModule == nil and self.fwdSeq == nil
end

-- torch/rnn's BiSequencer built around two sequence modules (nn.SeqBLSTM, nn.SeqBGRU)
function BiSequencer._build(self, forward, backward, merge)
   nn.AbstractSequencer.__init(self)
   merge = merge or nn.CAddTable()
   if not torch.isTypeOf(merge, 'nn.Module') then
      error('<' .. torch.type(self) .. '> expects the merge as an nn.Module, got ' .. torch.type(merge), 3)
   end
   self.modules[1] = nn.Sequential()
      :add(nn.ConcatTable():add(forward):add(nn.ReverseUnreverse(backward)))
      :add(merge)
   return self
end

function BiSequencer:getForward()
   if self:_torchrnn() then return self.modules[1].modules[1].modules[1] end
   return self.forwardModule
end

function BiSequencer:getBackward()
   if self:_torchrnn() then return self.modules[1].modules[1].modules[2]:getModule() end
   return self.backwardModule
end

-- torch/rnn: the backward half never carries its state over
function BiSequencer:remember(remember)
   if self:_torchrnn() then
      self:getForward():remember(remember)
      self:getBackward():remember('neither')
      return self
   end
   return parent.remember(self, remember)
end

function BiSequencer:updateOutput(input)
   if self:_torchrnn() then
      self.output = self:rethrowErrors(self.modules[1], 1, 'updateOutput', input)
      return self.output
   end
   if type(input) ~= 'table' or torch.isTensor(input) then
      error('<nn.BiSequencer> input must be a table of steps, got ' .. torch.type(input), 2)
   end
   self.output = self:rethrowErrors(self.modules[1], 1, 'updateOutput', input)
   return self.output
end

-- backward goes through the one module it holds, as nn.Decorator's
BiSequencer._childArgs = nn.Decorator._childArgs
BiSequencer._gatherGradInput = nn.Decorator._gatherGradInput

function BiSequencer:__tostring__()
   return torch.type(self) .. ' @ ' .. tostring(self.modules[1])
end

return BiSequencer
