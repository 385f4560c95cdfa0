-- cudnn.BGRU(inputSize, hiddenSize, numLayers, batchFirst, dropout): a
-- bidirectional cudnn.RNN in mode CUDNN_GRU.
local schema = require('nn.schema')
local BGRU, parent = torch.class('cudnn.BGRU', 'cudnn.RNN')

schema.inherited(BGRU, "cudnn.RNN's fields (mode CUDNN_GRU, bidirectional)")

function BGRU:__init(inputSize, hiddenSize, numLayers, batchFirst, dropout)
   parent.__init(self, inputSize, hiddenSize, numLayers, batchFirst, dropout)
   self.bidirectional = 'CUDNN_BIDIRECTIONAL'
   self.mode = 'CUDNN_GRU'
   self.numDirections = 2
   self:reset()
end

return BGRU
