-- nn.SeqBLSTM(inputsize, hiddensize [, outputsize] [, merge]): torch/rnn's bidirectional
-- SeqLSTM, a BiSequencer of two nn.SeqLSTM (the backward one reads the reversed sequence,
-- its output reversed back), their outputs merged by merge (nn.CAddTable by default).
-- Input seqlen x batch x inputsize.
local schema = require('nn.schema')
local SeqBLSTM, parent = torch.class('nn.SeqBLSTM', 'nn.BiSequencer')

schema.inherited(SeqBLSTM, "nn.BiSequencer's fields (torch/rnn's layout, two nn.SeqLSTM)")

function SeqBLSTM:__init(inputsize, hiddensize, outputsize, merge)
   if torch.isTypeOf(outputsize, 'nn.Module') then
      merge, outputsize = outputsize, nil
   end
   local fwd = nn.SeqLSTM(inputsize, hiddensize, outputsize)
   local bwd = fwd:clone()
   bwd:reset()
   parent._build(self, fwd, bwd, merge)
end

return SeqBLSTM
