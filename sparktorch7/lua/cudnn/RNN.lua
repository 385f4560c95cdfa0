-- cudnn.RNN(inputSize, hiddenSize, numLayers, batchFirst, dropout,
-- rememberStates): cuDNN's multi-layer RNN run on the CPU (inference). mode is
-- CUDNN_RNN_RELU (default), CUDNN_RNN_TANH, CUDNN_LSTM or CUDNN_GRU; with
-- bidirectional = 'CUDNN_BIDIRECTIONAL' each layer reads both ways and
-- outputs both (forward first). Input seqLength x miniBatch x inputSize
-- (batch first with batchFirst); output ... x hiddenSize * numDirections;
-- hiddenOutput/cellOutput the last states, numLayers * numDirections x
-- miniBatch x hiddenSize; hiddenInput/cellInput optional initial states.
--
-- The flat `weight` (cudnn.torch's RNN.lua sizes it with cudnnGetRNNParamsSize
-- and reads matrices and biases back through cudnnGetRNNLinLayerMatrixParams /
-- ...BiasParams, per pseudo-layer and linear-layer id, see its weights() and
-- biases()) is, for cuDNN v5 and later: first the matrices of every pseudo-layer
-- (layer 1 forward, layer 1 backward, layer 2 forward, ...), each pseudo-layer
-- holding its linear layers in id order - the input matrices of the gates
-- (hiddenSize x its input size, row-major) then the recurrent ones (hiddenSize x
-- hiddenSize) - and after all matrices the biases in the same order (an input
-- and a recurrent bias per gate). Gates (linear-layer ids): LSTM 0-3 input,
-- forget, cell candidate, output on the input and 4-7 the same on the
-- recurrent state; GRU 0-2 reset, update, candidate and 3-5; plain RNNs 0 and
-- 1 (RNN.linearLayers counts them: 8, 6, 2). cuDNN's GRU applies the reset
-- gate after the recurrent product: h' = tanh(W x + bW + r . (R h + bR)).
-- RNN.lua itself only asks cuDNN for the pointers; that the biases of all
-- layers follow the matrices of all layers is how cuDNN v5+ packs them (the
-- layout ONNX's OptimizedRNN documents as cuDNN's, github onnx/onnx#143, and
-- the observation in apache/mxnet#3274 that per-layer [W, R, bW, bR] holds for
-- one layer only). With uniform weights, as in cudnn.torch's test_rnn.lua, the
-- sample's checksums do not depend on it; tests/test_cudnn_rnn.py checks both.
local schema = require('nn.schema')
local kernels = require('nn.kernels')
local RNN, parent = torch.class('cudnn.RNN', 'nn.Module')

-- gates per direction and layer (each an input matrix, a recurrent one and two biases)
local GATES = {CUDNN_LSTM = 4, CUDNN_GRU = 3, CUDNN_RNN_RELU = 1, CUDNN_RNN_TANH = 1}

-- the flat weight's element count (sparktorch7._rnn_ops.cudnn_param_count, in closed form: a
-- file's numLayers may be huge): layer 1 reads inputSize values, the others hiddenSize *
-- numDirections
local function paramCount(self, D)
   local g, H, I, L = GATES[self.mode], self.hiddenSize, self.inputSize, self.numLayers
   return D * g * (H * I + H * H + 2 * H) + (L - 1) * D * g * (H * H * D + H * H + 2 * H)
end

local function directions(self)
   return self.numDirections or (self.bidirectional == 'CUDNN_BIDIRECTIONAL' and 2 or 1)
end

schema.declare(RNN, {
   {'inputSize', 'posint'},
   {'hiddenSize', 'posint'},
   {'numLayers', 'posint'},
   {'mode', 'string', check = schema.oneOf('CUDNN_RNN_RELU', 'CUDNN_RNN_TANH', 'CUDNN_LSTM', 'CUDNN_GRU')},
   {'bidirectional', 'string?', check = schema.oneOf('CUDNN_UNIDIRECTIONAL', 'CUDNN_BIDIRECTIONAL')},
   {'numDirections', 'posint?', max = 2, check = function(d, self)
      local want = self.bidirectional == 'CUDNN_BIDIRECTIONAL' and 2 or 1
      if self.bidirectional ~= nil and d ~= want then
         return string.format('%d (bidirectional = %q)', want, self.bidirectional)
      end
   end},
   {'weight', 'tensor', check = function(w, self)
      local n = paramCount(self, directions(self))
      if w:nElement() ~= n then
         return string.format('a tensor of %.17g elements (mode %s, inputSize %d, hiddenSize %d, numLayers %d, '
                              .. 'numDirections %d)', n, self.mode, self.inputSize, self.hiddenSize,
                              self.numLayers, directions(self)),
                string.format('%s (%d elements)', schema.holds(w), w:nElement())
      end
   end},
   {'dropout', 'number?', min = 0, max = 1},
   {'seed', 'number?'},
   {'batchFirst', 'boolean?'},
   {'rememberStates', 'boolean?'},
   {'sync', 'boolean?'},
   {'inputPacked', 'boolean?'},
   {'datatype', 'string?'},
   {'inputMode', 'string?', check = schema.oneOf('CUDNN_LINEAR_INPUT')},   -- the CPU runs no other
   {'seqLength', 'natural?'}, {'miniBatch', 'natural?'},
   {'gradWeight', 'tensor?'}, {'reserve', 'tensor?'},
   {'hiddenInput', 'tensor?'}, {'cellInput', 'tensor?'},
   {'hiddenOutput', 'tensor?'}, {'cellOutput', 'tensor?'},
   {'gradHiddenInput', 'tensor?'}, {'gradCellInput', 'tensor?'},
   {'gradHiddenOutput', 'tensor?'}, {'gradCellOutput', 'tensor?'},
})

RNN.linearLayers = {CUDNN_LSTM = 8, CUDNN_GRU = 6, CUDNN_RNN_RELU = 2, CUDNN_RNN_TANH = 2}

function RNN:__init(inputSize, hiddenSize, numLayers, batchFirst, dropout, rememberStates)
   parent.__init(self)
   self.datatype = 'CUDNN_DATA_FLOAT'
   self.inputSize = inputSize
   self.hiddenSize = hiddenSize
   self.seqLength = 1
   self.miniBatch = 1
   self.numLayers = numLayers
   self.bidirectional = 'CUDNN_UNIDIRECTIONAL'
   self.numDirections = 1
   self.inputMode = 'CUDNN_LINEAR_INPUT'
   self.mode = 'CUDNN_RNN_RELU'
   self.dropout = dropout or 0
   self.seed = 0x01234567
   self.batchFirst = batchFirst or false
   self.rememberStates = rememberStates or false
   self.sync = true
   self.inputPacked = false
   self.weight = torch.Tensor()
   self.gradWeight = torch.Tensor()
   self.reserve = torch.Tensor()
   self.hiddenOutput = torch.Tensor()
   self.cellOutput = torch.Tensor()
   self.gradHiddenInput = torch.Tensor()
   self.gradCellInput = torch.Tensor()
   self:training()
   self:reset()
end

function RNN:paramCount()
   return kernels.cudnn_param_count(self.mode, self.inputSize, self.hiddenSize, self.numLayers,
                                    self.numDirections)
end

function RNN:reset(stdv)
   stdv = stdv or 1.0 / math.sqrt(self.hiddenSize)
   self.weight:resize(self:paramCount())
   self.weight:uniform(-stdv, stdv)
   self.gradWeight:resizeAs(self.weight):zero()
   return self
end

function RNN:setSync(sync)
   self.sync = sync
end

function RNN:resetStates()
   self.hiddenInput = nil
   self.cellInput = nil
   self.hiddenOutput:zero()
   self.cellOutput:zero()
end

function RNN:backCompatibility(version)
   parent.backCompatibility(self, version)
   self.numDirections = self.numDirections or (self.bidirectional == 'CUDNN_BIDIRECTIONAL' and 2 or 1)
   self.hiddenOutput = self.hiddenOutput or nn.utils.newLike(self.weight)
   self.cellOutput = self.cellOutput or nn.utils.newLike(self.weight)
   -- the descriptors (cdata) mean nothing on the CPU
   for _, d in ipairs({'rnnDesc', 'dropoutDesc', 'wDesc', 'xDescs', 'yDescs', 'hxDesc', 'hyDesc',
                       'cxDesc', 'cyDesc'}) do
      self[d] = nil
   end
end

local function sizeStr(t)
   return t:dim() == 0 and 'an empty tensor' or table.concat(t:size():totable(), 'x')
end

local function checkState(self, s, name, N)
   local L = self.numLayers * self.numDirections
   if not torch.isTensor(s) or s:dim() ~= 3 or s:size(1) ~= L or s:size(2) ~= N or s:size(3) ~= self.hiddenSize then
      error(string.format('<%s> %s must be %dx%dx%d (numLayers*numDirections x miniBatch x hiddenSize), got %s',
                          torch.type(self), name, L, N, self.hiddenSize,
                          torch.isTensor(s) and sizeStr(s) or torch.type(s)), 3)
   end
   if torch.type(s) ~= torch.type(self.weight) then
      error(string.format('<%s> %s is a %s, the module is a %s', torch.type(self), name, torch.type(s),
                          torch.type(self.weight)), 3)
   end
end

function RNN:updateOutput(input)
   if type(input) == 'table' then
      error('<' .. torch.type(self) .. '> packed (variable length) input is not supported on the CPU', 2)
   end
   if not torch.isTensor(input) or input:dim() ~= 3 then
      error(string.format('<%s> input must be 3D (%s x %d), got %s', torch.type(self),
                          self.batchFirst and 'miniBatch x seqLength' or 'seqLength x miniBatch', self.inputSize,
                          torch.isTensor(input) and sizeStr(input) or torch.type(input)), 2)
   end
   if torch.type(input) ~= torch.type(self.weight) then
      error(string.format('<%s> input is a %s, the module is a %s (convert one of them)', torch.type(self),
                          torch.type(input), torch.type(self.weight)), 2)
   end
   local x = self.batchFirst and input:transpose(1, 2) or input
   if x:size(3) ~= self.inputSize then
      error(string.format('<%s> size mismatch: input has %d features, the module expects %d', torch.type(self), x:size(3),
                          self.inputSize), 2)
   end
   if not RNN.linearLayers[self.mode] then
      error(string.format('<%s> unknown mode %s', torch.type(self), tostring(self.mode)), 2)
   end
   local expected = self:paramCount()
   if self.weight:nElement() ~= expected then
      error(string.format('<%s> weight has %d elements, a %s of %d layer(s) (%d -> %d, %d direction(s)) needs %d',
                          torch.type(self), self.weight:nElement(), self.mode, self.numLayers, self.inputSize,
                          self.hiddenSize, self.numDirections, expected), 2)
   end
   local T, N = x:size(1), x:size(2)
   self.seqLength, self.miniBatch = T, N
   local L = self.numLayers * self.numDirections
   if self.rememberStates then
      if self.hiddenOutput:dim() == 3 and self.hiddenOutput:size(1) == L and self.hiddenOutput:size(2) == N
            and self.hiddenOutput:size(3) == self.hiddenSize then
         self.hiddenInput = self.hiddenOutput:clone()
         if self.cellOutput and self.cellOutput:isSameSizeAs(self.hiddenOutput) then
            self.cellInput = self.cellOutput:clone()
         end
      else
         self.hiddenInput, self.cellInput = nil, nil
      end
   end
   local hx, cx = self.hiddenInput, self.cellInput
   if hx then checkState(self, hx, 'hiddenInput', N) end
   if cx then checkState(self, cx, 'cellInput', N) end
   local function fresh(t)
      if torch.isTensor(t) and torch.type(t) == torch.type(self.weight) then return t end
      return nn.utils.newLike(self.weight)
   end
   self.hiddenOutput = fresh(self.hiddenOutput):resize(L, N, self.hiddenSize):zero()
   self.cellOutput = fresh(self.cellOutput):resize(L, N, self.hiddenSize):zero()
   self._output = fresh(self._output):resize(T, N, self.hiddenSize * self.numDirections)
   if T > 0 and N > 0 then
      kernels.cudnn_rnn(self._output, self.hiddenOutput, self.cellOutput, x:contiguous(),
                        self.weight:contiguous(), hx or false, cx or false, self.mode, self.inputSize, self.hiddenSize, self.numLayers, self.numDirections)
   end
   self.output = self.batchFirst and self._output:transpose(1, 2) or self._output
   return self.output
end

-- backward (sparktorch7._rnn_ops.cudnn_rnn_backward, which runs the forward again keeping
-- each step's activations): gradOutput as the output; gradHiddenOutput/gradCellOutput the
-- gradients of hiddenOutput/cellOutput (zeros when unset); fills gradInput and
-- gradHiddenInput/gradCellInput (those of hiddenInput/cellInput) and adds scale times the
-- weight's gradient to gradWeight (its flat layout). As cudnn.torch, only in training; no
-- dropout between layers (the forward applies none).
function RNN:_backward(input, gradOutput, scale)
   if self.train == false then
      error('<' .. torch.type(self) .. '> backward can only be called when training (as cudnn.torch)', 3)
   end
   if not torch.isTensor(input) or input:dim() ~= 3 or not torch.isTensor(self._output) then
      error('<' .. torch.type(self) .. '> backward needs the forward of the same input first', 3)
   end
   local x = self.batchFirst and input:transpose(1, 2) or input
   local T, N = x:size(1), x:size(2)
   if T ~= self.seqLength or N ~= self.miniBatch or x:size(3) ~= self.inputSize then
      error(string.format('<%s> input is %s, the last forward had seqLength %d, miniBatch %d, inputSize %d',
                          torch.type(self), sizeStr(input), self.seqLength, self.miniBatch, self.inputSize), 3)
   end
   if not torch.isTensor(gradOutput) or not gradOutput:isSameSizeAs(self.output)
         or torch.type(gradOutput) ~= torch.type(self.weight) then
      error(string.format('<%s> gradOutput must be a %s sized as the output (%s), got %s', torch.type(self),
                          torch.type(self.weight), sizeStr(self.output), torch.isTensor(gradOutput)
                          and (torch.type(gradOutput) .. ' ' .. sizeStr(gradOutput)) or torch.type(gradOutput)), 3)
   end
   local dy = self.batchFirst and gradOutput:transpose(1, 2) or gradOutput
   local L = self.numLayers * self.numDirections
   local dhy, dcy = self.gradHiddenOutput, self.gradCellOutput
   if torch.isTensor(dhy) and dhy:nElement() == 0 then dhy = nil end
   if torch.isTensor(dcy) and dcy:nElement() == 0 then dcy = nil end
   if dhy then checkState(self, dhy, 'gradHiddenOutput', N) end
   if dcy then checkState(self, dcy, 'gradCellOutput', N) end
   local function fresh(t)
      if torch.isTensor(t) and torch.type(t) == torch.type(self.weight) then return t end
      return nn.utils.newLike(self.weight)
   end
   self._gradInput = fresh(self._gradInput):resize(T, N, self.inputSize)
   self.gradHiddenInput = fresh(self.gradHiddenInput):resize(L, N, self.hiddenSize):zero()
   self.gradCellInput = fresh(self.gradCellInput):resize(L, N, self.hiddenSize):zero()
   self.gradWeight = fresh(self.gradWeight)
   if self.gradWeight:nElement() ~= self.weight:nElement() then self.gradWeight:resizeAs(self.weight):zero() end
   if not self.gradWeight:isContiguous() then
      error('<' .. torch.type(self) .. '> gradWeight must be contiguous (a flat tensor as weight)', 3)
   end
   if T > 0 and N > 0 then
      kernels.cudnn_rnn_backward(self._gradInput, self.gradHiddenInput,
                                 self.mode == 'CUDNN_LSTM' and self.gradCellInput or false,
                                 self.gradWeight:view(-1), x:contiguous(), self.weight:contiguous():view(-1),
                                 self.hiddenInput or false, self.cellInput or false, dy:contiguous(),
                                 dhy and dhy:contiguous() or false, dcy and dcy:contiguous() or false, self.mode,
                                 self.inputSize, self.hiddenSize, self.numLayers, self.numDirections, scale)
   else
      self._gradInput:zero()
   end
   self.gradInput = self.batchFirst and self._gradInput:transpose(1, 2) or self._gradInput
   return self.gradInput
end

function RNN:updateGradInput(input, gradOutput)
   return self:_backward(input, gradOutput, 0)
end

function RNN:accGradParameters(input, gradOutput, scale)
   scale = scale or 1
   if scale == 0 then return end
   self:_backward(input, gradOutput, scale)
end

function RNN:backward(input, gradOutput, scale)
   return self:_backward(input, gradOutput, scale or 1)
end

-- accUpdateGradParameters as Torch7 does it for modules sharing their parameters (the step
-- clones share them): the gradient on its own (zeroGradParameters, accGradParameters), then
-- updateParameters(lr)
RNN.accUpdateGradParameters = nn.Module.sharedAccUpdateGradParameters

function RNN:clearDesc()
   for _, d in ipairs({'rnnDesc', 'dropoutDesc', 'wDesc', 'xDescs', 'yDescs', 'hxDesc', 'hyDesc',
                       'cxDesc', 'cyDesc'}) do
      self[d] = nil
   end
end

function RNN:clearState()
   self:clearDesc()
   nn.utils.clear(self, '_input', '_gradOutput', 'reserve', 'dropoutStates')
   self._gradInput = nil
   self._output = nil
   return parent.clearState(self)
end

function RNN:__tostring__()
   return string.format('%s(%d -> %d, %d layer(s)%s, %s)', torch.type(self), self.inputSize, self.hiddenSize,
                        self.numLayers, self.numDirections == 2 and ', bidirectional' or '', tostring(self.mode))
end

return RNN
