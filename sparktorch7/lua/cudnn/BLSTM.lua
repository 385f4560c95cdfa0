-- cudnn.BLSTM(inputSize, hiddenSize, numLayers, batchFirst, dropout): a
-- bidirectional cudnn.RNN in mode CUDNN_LSTM.
local schema = require('nn.schema')
local BLSTM, parent = torch.class('cudnn.BLSTM', 'cudnn.RNN')

schema.inherited(BLSTM, "cudnn.RNN's fields (mode CUDNN_LSTM, bidirectional)")

function BLSTM:__init(inputSize, hiddenSize, numLayers, batchFirst, dropout)
   parent.__init(self, inputSize, hiddenSize, numLayers, batchFirst, dropout)
   self.bidirectional = 'CUDNN_BIDIRECTIONAL'
   self.mode = 'CUDNN_LSTM'
   self.numDirections = 2
   self:reset()
end

return BLSTM
