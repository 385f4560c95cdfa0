-- cudnn.RNNReLU(inputSize, hiddenSize, numLayers, batchFirst, dropout,
-- rememberStates): a cudnn.RNN in mode CUDNN_RNN_RELU.
local schema = require('nn.schema')
local RNNReLU, parent = torch.class('cudnn.RNNReLU', 'cudnn.RNN')

schema.inherited(RNNReLU, "cudnn.RNN's fields (mode CUDNN_RNN_RELU)")

function RNNReLU:__init(inputSize, hiddenSize, numLayers, batchFirst, dropout, rememberStates)
   parent.__init(self, inputSize, hiddenSize, numLayers, batchFirst, dropout, rememberStates)
   self.mode = 'CUDNN_RNN_RELU'
   self:reset()
end

return RNNReLU
