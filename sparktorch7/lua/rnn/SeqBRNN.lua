-- nn.SeqBRNN(inputDim, hiddenDim, batchFirst, merge): a bidirectional
-- SeqLSTM: forwardModule reads the sequence (seqlen x batch x inputDim) in
-- order, backwardModule reversed, and merge (nn.CAddTable by default)
-- combines the two outputs, the backward one re-reversed.
local schema = require('nn.schema')
local SeqBRNN, parent = torch.class('nn.SeqBRNN', 'nn.Container')

schema.declare(SeqBRNN, {
   {'modules', 'modules?', check = schema.decorated},
   {'module', 'module?'},
   {'forwardModule', 'module?'}, {'backwardModule', 'module?'}, {'merge', 'module?'},
   {'dim', 'posint?'},
})

function SeqBRNN:__init(inputDim, hiddenDim, batchFirst, merge)
   self.forwardModule = nn.SeqLSTM(inputDim, hiddenDim)
   self.backwardModule = nn.SeqLSTM(inputDim, hiddenDim)
   self.merge = merge or nn.CAddTable()
   self.dim = 1
   local backward = nn.Sequential()
      :add(nn.SeqReverseSequence(self.dim))
      :add(self.backwardModule)
      :add(nn.SeqReverseSequence(self.dim))
   local brnn = nn.Sequential()
      :add(nn.ConcatTable():add(self.forwardModule):add(backward))
      :add(self.merge)
   if batchFirst then
      brnn:insert(nn.Transpose({1, 2}), 1)
      brnn:insert(nn.Transpose({1, 2}))
   end
   parent.__init(self)
   self.output = torch.Tensor()
   self.gradInput = torch.Tensor()
   self.module = brnn
   self.modules[1] = brnn
end

function SeqBRNN:updateOutput(input)
   self.module = self.module or self.modules[1]
   self.output = self:rethrowErrors(self.module, 1, 'updateOutput', input)
   return self.output
end

-- backward goes through the one module it holds, as nn.Decorator's
SeqBRNN._childArgs = nn.Decorator._childArgs
SeqBRNN._gatherGradInput = nn.Decorator._gatherGradInput

function SeqBRNN:__tostring__()
   return torch.type(self) .. ' @ ' .. tostring(self.module)
end

return SeqBRNN
