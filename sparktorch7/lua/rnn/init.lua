-- The rnn package of sparktorch7: `require 'rnn'` (Element-Research rnn, and the classes
-- and zero masking of its successor torch/rnn: RecLSTM, RecGRU, StepLSTM, StepGRU,
-- LinearRNN, LookupRNN, SeqBLSTM, SeqBGRU, VariableLength, ...). It requires nn and dpnn as
-- the real one does, adds rnn's nn.Module extensions (rnn/extensions.lua) and defines the
-- recurrent module classes in dependency order. nn.rnn is the rnn table.
require('nn')
require('dpnn')

rnn = rnn or {}
rnn.version = 2.1

for name, f in pairs(require('rnn.recursive')) do
   rnn[name] = f
end
require('rnn.extensions')

-- support modules
require('rnn.LinearNoBias')
require('rnn.SAdd')
require('rnn.CopyGrad')
require('rnn.ExpandAs')
require('rnn.NCEModule')
require('rnn.NCECriterion')

-- masking
require('rnn.LookupTableMaskZero')
require('rnn.MaskZero')
require('rnn.TrimZero')
require('rnn.VariableLength')

-- recurrent modules (one step per forward)
require('rnn.AbstractRecurrent')
require('rnn.Recurrent')
require('rnn.LSTM')
require('rnn.FastLSTM')
require('rnn.GRU')
require('rnn.MuFuRu')
require('rnn.StepLSTM')
require('rnn.StepGRU')
require('rnn.RecLSTM')
require('rnn.RecGRU')
require('rnn.Recursor')
require('rnn.Recurrence')
require('rnn.LinearRNN')
require('rnn.LookupRNN')
require('rnn.NormStabilizer')

-- sequencers (a sequence per forward)
require('rnn.AbstractSequencer')
require('rnn.Repeater')
require('rnn.Sequencer')
require('rnn.BiSequencer')
require('rnn.BiSequencerLM')
require('rnn.RecurrentAttention')

-- whole-sequence recurrent modules
require('rnn.SeqLSTM')
require('rnn.SeqLSTMP')
require('rnn.SeqGRU')
require('rnn.SeqReverseSequence')
require('rnn.SeqBRNN')
require('rnn.ReverseSequence')
require('rnn.ReverseUnreverse')
require('rnn.SeqBLSTM')
require('rnn.SeqBGRU')

-- criteria over sequences
require('rnn.SequencerCriterion')
require('rnn.RepeaterCriterion')
require('rnn.MaskZeroCriterion')

nn.rnn = rnn
return rnn
