-- cudnn.LSTM(inputSize, hiddenSize, numLayers, batchFirst, dropout,
-- rememberStates): a cudnn.RNN in mode CUDNN_LSTM.
local schema = require('nn.schema')
local LSTM, parent = torch.class('cudnn.LSTM', 'cudnn.RNN')

schema.inherited(LSTM, "cudnn.RNN's fields (mode CUDNN_LSTM)")

function LSTM:__init(inputSize, hiddenSize, numLayers, batchFirst, dropout, rememberStates)
   parent.__init(self, inputSize, hiddenSize, numLayers, batchFirst, dropout, rememberStates)
   self.mode = 'CUDNN_LSTM'
   self:reset()
end

return LSTM
