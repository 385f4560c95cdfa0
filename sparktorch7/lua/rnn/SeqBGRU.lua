-- nn.SeqBGRU(inputsize, outputsize [, merge]): torch/rnn's bidirectional SeqGRU, a
-- BiSequencer of two nn.SeqGRU as nn.SeqBLSTM.
local schema = require('nn.schema')
local SeqBGRU, parent = torch.class('nn.SeqBGRU', 'nn.BiSequencer')

schema.inherited(SeqBGRU, "nn.BiSequencer's fields (torch/rnn's layout, two nn.SeqGRU)")

function SeqBGRU:__init(inputsize, outputsize, merge)
   local fwd = nn.SeqGRU(inputsize, outputsize)
   local bwd = fwd:clone()
   bwd:reset()
   parent._build(self, fwd, bwd, merge)
end

return SeqBGRU
