-- nn.SeqGRU(inputSize, outputSize): a GRU over a whole sequence per forward.
-- Input seqlen x batch x inputSize (batch first with batchfirst) or {h0, x};
-- weight (D + H) x 3H, its columns the gates reset, update, candidate:
--   [r u] = sigmoid(x Wx + h(t-1) Wh + b),
--   hc = tanh(x Wx_c + (r . h(t-1)) Wh_c + b_c),  h(t) = (1 - u) . hc + u . h(t-1).
-- remember(), maskzero, setZeroMask as nn.SeqLSTM. torch/rnn's objects name the sizes
-- inputsize/outputsize. The time loop runs in NumPy.
local schema = require('nn.schema')
local kernels = require('nn.kernels')
local SeqGRU, parent = torch.class('nn.SeqGRU', 'nn.Module')

-- weight (inputSize + outputSize) x 3 outputSize and bias 3 outputSize, read as they are by
-- sparktorch7._rnn_ops.seq_gru
schema.declare(SeqGRU, {
   {'inputSize', 'posint'},
   {'outputSize', 'posint'},
   {'weight', 'tensor', size = {'inputSize + outputSize', '3 * outputSize'}},
   {'bias', 'tensor', size = {'3 * outputSize'}},
   {'inputsize', 'posint?'}, {'outputsize', 'posint?'},    -- torch/rnn's names (read renames them)
   {'v2', 'boolean?'}, {'zeroMask', 'tensor|boolean?'},
   {'gradWeight', 'tensor?'}, {'gradBias', 'tensor?'},
   {'seqLength', 'natural?'}, {'miniBatch', 'natural?'},
   {'gates', 'tensor?'}, {'h0', 'tensor?'}, {'grad_h0', 'tensor?'}, {'grad_x', 'tensor?'},
   {'buffer1', 'tensor?'}, {'buffer2', 'tensor?'}, {'buffer3', 'tensor?'}, {'grad_a_buffer', 'tensor?'},
   {'_output', 'tensor?'}, {'userPrevOutput', 'tensor?'},
   {'_remember', 'string?', check = schema.oneOf('both', 'eval', 'train', 'neither')},
   {'batchfirst', 'boolean?'},
   {'maskzero', 'boolean?'},
})

function SeqGRU:__init(inputSize, outputSize)
   parent.__init(self)
   self.inputSize = inputSize
   self.outputSize = outputSize
   self.seqLength = 1
   self.miniBatch = 1
   local D, H = inputSize, outputSize
   self.weight = torch.Tensor(D + H, 3 * H)
   self.gradWeight = torch.Tensor(D + H, 3 * H):zero()
   self.bias = torch.Tensor(3 * H)
   self.gradBias = torch.Tensor(3 * H):zero()
   self:reset()
   self.gates = torch.Tensor()
   self.buffer1 = torch.Tensor()
   self.buffer2 = torch.Tensor()
   self.buffer3 = torch.Tensor()
   self.grad_a_buffer = torch.Tensor()
   self.h0 = torch.Tensor()
   self._remember = 'neither'
   self.grad_h0 = torch.Tensor()
   self.grad_x = torch.Tensor()
   self.gradInput = {self.grad_h0, self.grad_x}
   self.batchfirst = false
   self.maskzero = false
end

-- torch/rnn's SeqGRU names its sizes inputsize/outputsize: they are read as inputSize/outputSize
function SeqGRU:read(file, version)
   local pos = type(file._tell) == 'function' and file:_tell() or nil
   local fields = file:readObject()
   schema.checkFields(torch.typename(self), fields, file, pos)
   for k, v in pairs(fields) do
      self[k] = v
   end
   if rawget(self, 'inputSize') == nil and rawget(self, 'outputSize') == nil then
      self.inputSize, self.outputSize = rawget(self, 'inputsize'), rawget(self, 'outputsize')
   end
   schema.check(self, file, pos)
   self:backCompatibility(version)
end

function SeqGRU:backCompatibility(version)
   parent.backCompatibility(self, version)
   self._remember = self._remember or 'neither'
   self.gates = self.gates or nn.utils.newLike(self.weight)
   self.h0 = self.h0 or nn.utils.newLike(self.weight)
end

function SeqGRU:reset(std)
   if not std then
      std = 1.0 / math.sqrt(self.outputSize + self.inputSize)
   end
   self.bias:zero()
   self.bias[{{self.outputSize + 1, 2 * self.outputSize}}]:fill(1)
   self.weight:normal(0, std)
   return self
end

function SeqGRU:resetStates()
   self.h0 = nn.utils.newLike(self.h0)
end

SeqGRU.remember = nn.AbstractSequencer.remember
SeqGRU._remembers = nn.SeqLSTM._remembers
SeqGRU._initialState = nn.SeqLSTM._initialState
SeqGRU.training = nn.SeqLSTM.training
SeqGRU.evaluate = nn.SeqLSTM.evaluate

function SeqGRU:forget()
   self.h0:resize(0)
   return self
end

SeqGRU.maskZero = nn.SeqLSTM.maskZero
SeqGRU.setZeroMask = nn.SeqLSTM.setZeroMask

function SeqGRU:setStartState(h0)
   if h0 ~= nil and not torch.isTensor(h0) then
      error('<' .. torch.type(self) .. '> setStartState expects h0 (a tensor) or nil, got ' .. torch.type(h0), 2)
   end
   self.userPrevOutput = h0
end

function SeqGRU:updateOutput(input)
   -- nn.SeqLSTM's checks, with SeqGRU's field names
   self.inputsize, self.outputsize, self.hiddensize = self.inputSize, self.outputSize, self.outputSize
   local _, h0, x = nn.SeqLSTM._prepare_size(self, input, 1)
   self.inputsize, self.outputsize, self.hiddensize = nil, nil, nil
   local T, N = x:size(1), x:size(2)
   local D, H = self.inputSize, self.outputSize
   if self.weight:dim() ~= 2 or self.weight:size(1) ~= D + H or self.weight:size(2) ~= 3 * H then
      error(string.format('<nn.SeqGRU> weight must be %dx%d', D + H, 3 * H), 2)
   end
   nn.utils.buffer(self, '_output', self.weight)
   h0 = self:_initialState(h0, 'h0', 'userPrevOutput', self._output, N, H)
   local h = self._output:resize(T, N, H)
   nn.utils.buffer(self, 'gates', self.weight):resize(T, N, 3 * H)
   if T > 0 and N > 0 then
      kernels.seq_gru(h, self.gates, x, h0, self.weight, self.bias, nn.SeqLSTM._maskArg(self, T, N))
   end
   self.userPrevOutput = nil
   if self.batchfirst then
      self.output = self._output:transpose(1, 2)
   else
      self.output = self._output
   end
   return self.output
end

-- the backward pass (sparktorch7._rnn_ops.seq_gru_backward), as nn.SeqLSTM's: gradInput
-- (grad_x, or {grad_h0, grad_x} for a {h0, x} input) and scale times the parameter gradients
function SeqGRU:_backward(input, gradOutput, scale)
   self.inputsize, self.outputsize, self.hiddensize = self.inputSize, self.outputSize, self.outputSize
   local ok, err = pcall(function()
      local _, h0, x = nn.SeqLSTM._prepare_size(self, input, 1)
      local T, N = x:size(1), x:size(2)
      local D, H = self.inputSize, self.outputSize
      if not (torch.isTensor(self._output) and self._output:dim() == 3 and self._output:size(1) == T
              and self._output:size(2) == N) then
         error(string.format('<%s> backward needs the forward of the same input first (seqlen %d, batch %d)',
                             torch.type(self), T, N), 0)
      end
      local grad_h = nn.SeqLSTM._gradOutputSteps(self, gradOutput, T, N, H)
      h0 = h0 or self.h0
      nn.utils.buffer(self, 'grad_h0', self.weight):resize(N, H)
      nn.utils.buffer(self, 'grad_x', self.weight):resize(T, N, D)
      if self.gradWeight:nElement() ~= self.weight:nElement() then self.gradWeight:resizeAs(self.weight):zero() end
      if self.gradBias:nElement() ~= self.bias:nElement() then self.gradBias:resizeAs(self.bias):zero() end
      local gradNextH = self.gradPrevOutput
      if gradNextH and not (torch.isTensor(gradNextH) and gradNextH:nElement() == N * H) then
         error(string.format('<%s> gradPrevOutput must be %dx%d', torch.type(self), N, H), 0)
      end
      if T > 0 and N > 0 then
         kernels.seq_gru_backward(self.grad_x, self.grad_h0, self.gradWeight, self.gradBias, x, h0, self._output,
                                  self.gates, self.weight, grad_h, gradNextH and gradNextH:view(N, H) or false,
                                  nn.SeqLSTM._maskArg(self, T, N), scale)
      else
         self.grad_x:zero(); self.grad_h0:zero()
      end
      self.userGradPrevOutput = self.grad_h0
      local gx = self.batchfirst and self.grad_x:transpose(1, 2) or self.grad_x
      self.gradInput = torch.type(input) == 'table' and {self.grad_h0, gx} or gx
   end)
   self.inputsize, self.outputsize, self.hiddensize = nil, nil, nil
   if not ok then error(err, 0) end
   return self.gradInput
end

function SeqGRU:backward(input, gradOutput, scale)
   self:_backward(input, gradOutput, scale or 1)
   self.gradPrevOutput = nil
   return self.gradInput
end

function SeqGRU:updateGradInput(input, gradOutput)
   return self:_backward(input, gradOutput, 0)
end

function SeqGRU:accGradParameters(input, gradOutput, scale)
   self:_backward(input, gradOutput, scale or 1)
   self.gradPrevOutput = nil
end

-- accUpdateGradParameters as Torch7 does it for modules sharing their parameters (the step
-- clones share them): the gradient on its own (zeroGradParameters, accGradParameters), then
-- updateParameters(lr)
SeqGRU.accUpdateGradParameters = nn.Module.sharedAccUpdateGradParameters

-- Element-Research rnn: the same GRU as an nn.GRU (weights and their gradients copied):
-- its i2g/o2g hold the reset and update gates, then the candidate's Linear and LinearNoBias
function SeqGRU:toGRU()
   local D, H = self.inputSize, self.outputSize
   local gru = nn.GRU(D, H)
   if torch.type(self.weight) ~= 'torch.DoubleTensor' then gru:type(torch.type(self.weight)) end
   local params, grads = gru:parameters()
   local gates, cand = {1, 2 * H}, {2 * H + 1, 3 * H}
   for _, pair in ipairs({{params, self.weight, self.bias}, {grads, self.gradWeight, self.gradBias}}) do
      local dst, W, b = pair[1], pair[2], pair[3]
      dst[1]:copy(W[{{1, D}, gates}]:t())
      dst[2]:copy(b[{gates}])
      dst[3]:copy(W[{{D + 1, D + H}, gates}]:t())
      dst[4]:copy(W[{{1, D}, cand}]:t())
      dst[5]:copy(b[{cand}])
      dst[6]:copy(W[{{D + 1, D + H}, cand}]:t())
   end
   return gru
end

function SeqGRU:clearState()
   for _, k in ipairs({'gates', 'buffer1', 'buffer2', 'buffer3', 'grad_a_buffer', 'grad_h0', 'grad_x'}) do
      if torch.isTensor(self[k]) then self[k] = nn.utils.newLike(self[k]) end
   end
   self.output = nn.utils.newLike(self.weight)
   self._output = nil
   self.zeroMask, self._zeroMask = nil, nil
   return self
end

function SeqGRU:__tostring__()
   return string.format('%s(%d -> %d)', torch.type(self), self.inputSize, self.outputSize)
end

return SeqGRU
