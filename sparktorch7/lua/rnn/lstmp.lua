-- The weights of torch/rnn's LSTM with an optional projection (an LSTMP), as nn.SeqLSTM and
-- nn.StepLSTM hold them: weight (inputsize + outputsize) x 4 hiddensize (the gates input,
-- forget, output, candidate), bias 4 hiddensize, and with a projection weightO hiddensize x
-- outputsize. Files without hiddensize have no projection: hiddensize = outputsize.
-- The checks are schema field checks (nil when the tensor fits, else expected and held).
local schema = require('nn.schema')

local lstmp = {}

function lstmp.hidden(self) return self.hiddensize or self.outputsize end

function lstmp.checkWeight(w, self)
   return schema.sizeIs(w, {self.inputsize + self.outputsize, 4 * lstmp.hidden(self)},
                        '(inputsize + outputsize) x 4 * hiddensize')
end

function lstmp.checkBias(b, self)
   return schema.sizeIs(b, {4 * lstmp.hidden(self)}, '4 * hiddensize')
end

function lstmp.checkWeightO(w, self)
   return schema.sizeIs(w, {lstmp.hidden(self), self.outputsize}, 'hiddensize x outputsize')
end

return lstmp
