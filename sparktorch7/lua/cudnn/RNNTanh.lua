-- cudnn.RNNTanh(inputSize, hiddenSize, numLayers, batchFirst, dropout,
-- rememberStates): a cudnn.RNN in mode CUDNN_RNN_TANH.
local schema = require('nn.schema')
local RNNTanh, parent = torch.class('cudnn.RNNTanh', 'cudnn.RNN')

schema.inherited(RNNTanh, "cudnn.RNN's fields (mode CUDNN_RNN_TANH)")

function RNNTanh:__init(inputSize, hiddenSize, numLayers, batchFirst, dropout, rememberStates)
   parent.__init(self, inputSize, hiddenSize, numLayers, batchFirst, dropout, rememberStates)
   self.mode = 'CUDNN_RNN_TANH'
   self:reset()
end

return RNNTanh
