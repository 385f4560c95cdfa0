-- cudnn.GRU(inputSize, hiddenSize, numLayers, batchFirst, dropout,
-- rememberStates): a cudnn.RNN in mode CUDNN_GRU.
local schema = require('nn.schema')
local GRU, parent = torch.class('cudnn.GRU', 'cudnn.RNN')

schema.inherited(GRU, "cudnn.RNN's fields (mode CUDNN_GRU)")

function GRU:__init(inputSize, hiddenSize, numLayers, batchFirst, dropout, rememberStates)
   parent.__init(self, inputSize, hiddenSize, numLayers, batchFirst, dropout, rememberStates)
   self.mode = 'CUDNN_GRU'
   self:reset()
end

return GRU
