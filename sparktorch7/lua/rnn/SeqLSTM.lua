-- nn.SeqLSTM(inputsize, hiddensize, outputsize): an LSTM over a whole
-- sequence per forward (torch-rnn's LSTM, as rnn ships it). Input seqlen x
-- batch x inputsize (batch x seqlen x ... with batchfirst), or {h0, x} or
-- {c0, h0, x}; output seqlen x batch x outputsize. weight is (D + R) x 4H, its
-- columns the gates input, forget, output, candidate; bias 4H:
--   [i f o] = sigmoid(x Wx + h(t-1) Wh + b),  g = tanh(...),
--   c(t) = f . c(t-1) + i . g,  h(t) = o . tanh(c(t)).
-- remember() keeps the last h and c as the next forward's start; with
-- maskzero, batch rows whose input step is all zeros get zero h and c; torch/rnn's
-- SeqLSTM (v2 = true) masks instead the steps where the zeroMask given by
-- setZeroMask(zeroMask) (seqlen x batch) is 1.
-- The time loop runs in NumPy (sparktorch7._rnn_ops.seq_lstm).
local schema = require('nn.schema')
local lstmp = require('rnn.lstmp')
local kernels = require('nn.kernels')
local zeromask = require('rnn.zeromask')
local SeqLSTM, parent = torch.class('nn.SeqLSTM', 'nn.Module')

-- weight, bias and weightO as rnn/lstmp.lua describes (read as they are by sparktorch7._rnn_ops)
local hidden = lstmp.hidden

schema.declare(SeqLSTM, {
   {'inputsize', 'posint'},
   {'outputsize', 'posint'},
   {'hiddensize', 'posint?'},
   {'weight', 'tensor', check = lstmp.checkWeight},
   {'bias', 'tensor', check = lstmp.checkBias},
   {'gradWeight', 'tensor?'}, {'gradBias', 'tensor?'},
   {'cell', 'tensor?'}, {'gates', 'tensor?'},
   {'h0', 'tensor?'}, {'c0', 'tensor?'},
   {'grad_c0', 'tensor?'}, {'grad_h0', 'tensor?'}, {'grad_x', 'tensor?'},
   {'buffer1', 'tensor?'}, {'buffer2', 'tensor?'}, {'buffer3', 'tensor?'}, {'grad_a_buffer', 'tensor?'},
   {'_output', 'tensor?'}, {'_hidden', 'tensor?'},
   {'userPrevOutput', 'tensor?'}, {'userPrevCell', 'tensor?'},
   {'_remember', 'string?', check = schema.oneOf('both', 'eval', 'train', 'neither')},
   {'batchfirst', 'boolean?'},
   {'maskzero', 'boolean?'},
   {'v2', 'boolean?'}, {'zeroMask', 'tensor|boolean?'},
   {'weightO', 'tensor?', check = lstmp.checkWeightO},
   {'gradWeightO', 'tensor?'},
})

function SeqLSTM:__init(inputsize, hiddensize, outputsize)
   parent.__init(self)
   if outputsize and not self.weightO then
      -- torch/rnn: SeqLSTM(inputsize, hiddensize, outputsize) is an LSTMP
      self.weightO = torch.Tensor(hiddensize, outputsize)
      self.gradWeightO = torch.Tensor(hiddensize, outputsize)
   end
   outputsize = outputsize or hiddensize
   local D, H, R = inputsize, hiddensize, outputsize
   self.inputsize, self.hiddensize, self.outputsize = D, H, R
   self.weight = torch.Tensor(D + R, 4 * H)
   self.gradWeight = torch.Tensor(D + R, 4 * H)
   self.bias = torch.Tensor(4 * H)
   self.gradBias = torch.Tensor(4 * H):zero()
   self:reset()
   self.cell = torch.Tensor()
   self.gates = torch.Tensor()
   self.buffer1 = torch.Tensor()
   self.buffer2 = torch.Tensor()
   self.buffer3 = torch.Tensor()
   self.grad_a_buffer = torch.Tensor()
   self.h0 = torch.Tensor()
   self.c0 = torch.Tensor()
   self._remember = 'neither'
   self.grad_c0 = torch.Tensor()
   self.grad_h0 = torch.Tensor()
   self.grad_x = torch.Tensor()
   self.gradInput = {self.grad_c0, self.grad_h0, self.grad_x}
   self.batchfirst = false
   self.maskzero = false
end

function SeqLSTM:backCompatibility(version)
   parent.backCompatibility(self, version)
   self.hiddensize = self.hiddensize or self.outputsize
   self._remember = self._remember or 'neither'
   self.cell = self.cell or nn.utils.newLike(self.weight)
   self.gates = self.gates or nn.utils.newLike(self.weight)
   self.h0 = self.h0 or nn.utils.newLike(self.weight)
   self.c0 = self.c0 or nn.utils.newLike(self.weight)
end

function SeqLSTM:reset(std)
   if not std then
      std = 1.0 / math.sqrt(self.outputsize + self.inputsize)
   end
   self.bias:zero()
   self.bias[{{self.outputsize + 1, 2 * self.outputsize}}]:fill(1)
   self.weight:normal(0, std)
   if self.weightO then self.weightO:normal(0, std) end
   return self
end

-- sharedClone (a step clone in training) shares weightO too
SeqLSTM.dpnn_parameters = {'weight', 'bias', 'weightO'}
SeqLSTM.dpnn_gradParameters = {'gradWeight', 'gradBias', 'gradWeightO'}

function SeqLSTM:parameters()
   return {self.weight, self.bias, self.weightO}, {self.gradWeight, self.gradBias, self.gradWeightO}
end

function SeqLSTM:resetStates()
   self.h0 = nn.utils.newLike(self.h0)
   self.c0 = nn.utils.newLike(self.c0)
end

SeqLSTM.remember = nn.AbstractSequencer.remember

function SeqLSTM:forget()
   self.c0:resize(0)
   self.h0:resize(0)
   return self
end

-- maskZero([v1]): Element-Research rnn's masks all-zero input rows; torch/rnn's objects
-- (v2 set) mask by the zeroMask of setZeroMask unless v1
function SeqLSTM:maskZero(v1)
   self.maskzero = true
   if self.v2 ~= nil or v1 ~= nil then self.v2 = not v1 end
   return self
end

function SeqLSTM:setZeroMask(zeroMask)
   self.zeroMask = zeromask.check(torch.type(self), zeroMask)
end

-- the mask argument of the NumPy kernels: false, true (all-zero input rows) or the zeroMask
function SeqLSTM:_maskArg(T, N)
   if not self.maskzero then return false end
   if not self.v2 then return true end
   local zm = self.zeroMask
   if zm == false then return false end
   if not torch.isTensor(zm) then
      error(string.format('<%s> zero masking (maskzero, version 2) needs setZeroMask(zeroMask) before '
                          .. 'forward: a seqlen x batchsize ByteTensor (%d x %d here), 1 where padded, or false',
                          torch.type(self), T, N), 3)
   end
   if zm:dim() ~= 2 or zm:size(1) ~= T or zm:size(2) ~= N then
      error(string.format('<%s> the zeroMask must be seqlen x batchsize (%d x %d), got %s', torch.type(self),
                          T, N, zm:dim() == 0 and 'an empty tensor' or table.concat(zm:size():totable(), 'x')), 3)
   end
   return zm
end

-- torch/rnn: {h0, c0} as the start of the next forward (once)
function SeqLSTM:setStartState(state)
   if state == nil then
      self.userPrevOutput, self.userPrevCell = nil, nil
      return
   end
   if type(state) ~= 'table' or not torch.isTensor(state[1]) or not torch.isTensor(state[2]) then
      error('<' .. torch.type(self) .. '> setStartState expects {h0, c0} (two tensors), got ' .. torch.type(state), 2)
   end
   self.userPrevOutput, self.userPrevCell = state[1], state[2]
end

function SeqLSTM:training()
   if self.train == false then self:forget() end
   return parent.training(self)
end

function SeqLSTM:evaluate()
   if self.train ~= false then self:forget() end
   return parent.evaluate(self)
end

-- whether the state carries over from the previous forward
function SeqLSTM:_remembers()
   local r = self._remember or 'neither'
   if self.train ~= false then
      return r == 'both' or r == 'train'
   end
   return r == 'both' or r == 'eval'
end

local function sizeStr(t)
   if not torch.isTensor(t) then return torch.type(t) end
   if t:dim() == 0 then return 'an empty tensor' end
   return table.concat(t:size():totable(), 'x')
end

local function expect(self, t, what, dims)
   local ok = torch.isTensor(t) and t:dim() == #dims
   if ok then
      for i, d in ipairs(dims) do
         if t:size(i) ~= d then ok = false end
      end
   end
   if not ok then
      local want = {}
      for i, d in ipairs(dims) do want[i] = tostring(d) end
      error(string.format('<%s> %s must be %s, got %s', torch.type(self), what, table.concat(want, 'x'),
                          sizeStr(t)), 4)
   end
   if torch.type(t) ~= torch.type(self.weight) then
      error(string.format('<%s> %s is a %s, the module is a %s (convert one of them)', torch.type(self),
                          what, torch.type(t), torch.type(self.weight)), 4)
   end
end

-- splits the input into c0, h0, x (x seqlen x batch x inputsize, batchfirst undone)
function SeqLSTM:_prepare_size(input, nState)
   local c0, h0, x
   if torch.type(input) == 'table' and #input == 3 and nState == 2 then
      c0, h0, x = input[1], input[2], input[3]
   elseif torch.type(input) == 'table' and #input == 2 then
      h0, x = input[1], input[2]
   elseif torch.isTensor(input) then
      x = input
   else
      error(string.format('<%s> input must be a seqlen x batch x %d tensor, {h0, x}%s, got %s',
                          torch.type(self), self.inputsize, nState == 2 and ' or {c0, h0, x}' or '',
                          torch.type(input)), 3)
   end
   if not torch.isTensor(x) or x:dim() ~= 3 then
      error(string.format('<%s> input must be 3D (%s x %d; only batches), got %s', torch.type(self),
                          self.batchfirst and 'batch x seqlen' or 'seqlen x batch', self.inputsize,
                          sizeStr(x)), 3)
   end
   if self.batchfirst then
      x = x:transpose(1, 2)
   end
   local T, N = x:size(1), x:size(2)
   expect(self, x, self.batchfirst and 'input (batch x seqlen x inputsize, transposed)' or 'input', {T, N, self.inputsize})
   if h0 then expect(self, h0, 'h0', {N, self.outputsize}) end
   if c0 then expect(self, c0, 'c0', {N, self.hiddensize}) end
   return c0, h0, x
end

-- the initial state: given, userPrev*, remembered from the last forward, or zeros
function SeqLSTM:_initialState(given, field, userField, last, N, size)
   if given then return given end
   local s = nn.utils.buffer(self, field, self.weight)
   local remember = self:_remembers()
   local user = self[userField]
   if user then
      if user:size(1) ~= N then
         error(string.format('<%s> %s has %d rows, the batch has %d', torch.type(self), userField,
                             user:size(1), N), 3)
      end
      s:resizeAs(user):copy(user)
   elseif s:nElement() == 0 or not remember or not (torch.isTensor(last) and last:dim() == 3) then
      s:resize(N, size):zero()
   else
      local prevT, prevN = last:size(1), last:size(2)
      if prevN ~= N then
         error(string.format('<%s> the batch size must stay the same to remember states (%d, then %d)',
                             torch.type(self), prevN, N), 3)
      end
      s:resize(N, size):copy(last[prevT])
   end
   return s
end

function SeqLSTM:updateOutput(input)
   local c0, h0, x = self:_prepare_size(input, 2)
   local T, N = x:size(1), x:size(2)
   self.hiddensize = self.hiddensize or self.outputsize
   local H, R, D = self.hiddensize, self.outputsize, self.inputsize
   if self.weight:dim() ~= 2 or self.weight:size(1) ~= D + R or self.weight:size(2) ~= 4 * H then
      error(string.format('<%s> weight must be %dx%d, got %s', torch.type(self), D + R, 4 * H,
                          sizeStr(self.weight)), 2)
   end
   nn.utils.buffer(self, '_output', self.weight)
   nn.utils.buffer(self, 'cell', self.weight)
   c0 = self:_initialState(c0, 'c0', 'userPrevCell', self.cell, N, H)
   h0 = self:_initialState(h0, 'h0', 'userPrevOutput', self._output, N, R)
   local h, c = self._output, self.cell
   h:resize(T, N, R)
   c:resize(T, N, H)
   nn.utils.buffer(self, 'gates', self.weight)
   self.gates:resize(T, N, 4 * H)
   local weightO, hidden = self.weightO, nil
   if weightO then
      nn.utils.buffer(self, '_hidden', self.weight)
      hidden = self._hidden:resize(T, N, H)
   end
   if T > 0 and N > 0 then
      kernels.seq_lstm(h, c, self.gates, x, h0, c0, self.weight, self.bias, weightO or false,
                       hidden or false, self:_maskArg(T, N))
   end
   self.userPrevOutput = nil
   self.userPrevCell = nil
   if self.batchfirst then
      self.output = self._output:transpose(1, 2)
   else
      self.output = self._output
   end
   return self.output
end

-- the gradOutput of a forward: seqlen x batch x outputsize as the output (batchfirst undone)
function SeqLSTM:_gradOutputSteps(gradOutput, T, N, R)
   if not torch.isTensor(gradOutput) or gradOutput:dim() ~= 3 then
      error(string.format('<%s> gradOutput must be 3D like the output (%s), got %s', torch.type(self),
                          table.concat(self.output:size():totable(), 'x'),
                          torch.isTensor(gradOutput) and sizeStr(gradOutput) or torch.type(gradOutput)), 4)
   end
   local g = self.batchfirst and gradOutput:transpose(1, 2) or gradOutput
   expect(self, g, 'gradOutput' .. (self.batchfirst and ' (batch x seqlen x outputsize, transposed)' or ''),
          {T, N, R})
   return g
end

-- the backward pass (sparktorch7._rnn_ops.seq_lstm_backward): gradInput from gradOutput (and
-- gradPrevOutput / userNextGradCell, the gradients of the last h and c from outside), and
-- scale times the parameter gradients added (none with scale 0). The state the forward
-- started from (given in the input, or remembered) gets the gradients grad_h0 and grad_c0.
function SeqLSTM:_backward(input, gradOutput, scale)
   local c0, h0, x = self:_prepare_size(input, 2)
   local T, N = x:size(1), x:size(2)
   local H, R, D = lstmp.hidden(self), self.outputsize, self.inputsize
   if not (torch.isTensor(self._output) and self._output:dim() == 3 and self._output:size(1) == T
           and self._output:size(2) == N) then
      error(string.format('<%s> backward needs the forward of the same input first (seqlen %d, batch %d)',
                          torch.type(self), T, N), 3)
   end
   local grad_h = self:_gradOutputSteps(gradOutput, T, N, R)
   c0, h0 = c0 or self.c0, h0 or self.h0
   for _, k in ipairs({'grad_c0', 'grad_h0', 'grad_x'}) do nn.utils.buffer(self, k, self.weight) end
   self.grad_c0:resize(N, H)
   self.grad_h0:resize(N, R)
   self.grad_x:resize(T, N, D)
   if self.gradWeight:nElement() ~= self.weight:nElement() then self.gradWeight:resizeAs(self.weight):zero() end
   if self.gradBias:nElement() ~= self.bias:nElement() then self.gradBias:resizeAs(self.bias):zero() end
   if self.weightO and (not self.gradWeightO or self.gradWeightO:nElement() ~= self.weightO:nElement()) then
      nn.utils.buffer(self, 'gradWeightO', self.weight):resizeAs(self.weightO):zero()
   end
   local gradNextH, gradNextC = self.gradPrevOutput, self.userNextGradCell
   if gradNextH then expect(self, gradNextH, 'gradPrevOutput', {N, R}) end
   if gradNextC then expect(self, gradNextC, 'userNextGradCell', {N, H}) end
   if T > 0 and N > 0 then
      kernels.seq_lstm_backward(self.grad_x, self.grad_h0, self.grad_c0, self.gradWeight, self.gradBias,
                                self.gradWeightO or false, x, h0, c0, self._output, self.cell, self.gates,
                                self.weight, self.weightO or false, self._hidden or false, grad_h,
                                gradNextH or false, gradNextC or false, self:_maskArg(T, N), scale)
   else
      self.grad_x:zero(); self.grad_h0:zero(); self.grad_c0:zero()
   end
   self.userGradPrevOutput, self.userGradPrevCell = self.grad_h0, self.grad_c0
   local gx = self.batchfirst and self.grad_x:transpose(1, 2) or self.grad_x
   if torch.type(input) == 'table' and #input == 3 then
      self.gradInput = {self.grad_c0, self.grad_h0, gx}
   elseif torch.type(input) == 'table' then
      self.gradInput = {self.grad_h0, gx}
   else
      self.gradInput = gx
   end
   return self.gradInput
end

function SeqLSTM:backward(input, gradOutput, scale)
   self:_backward(input, gradOutput, scale or 1)
   self.gradPrevOutput, self.userNextGradCell = nil, nil
   return self.gradInput
end

function SeqLSTM:updateGradInput(input, gradOutput)
   return self:_backward(input, gradOutput, 0)
end

-- one more pass with the scale (the gradInput it computes is the one updateGradInput gave)
function SeqLSTM:accGradParameters(input, gradOutput, scale)
   self:_backward(input, gradOutput, scale or 1)
   self.gradPrevOutput, self.userNextGradCell = nil, nil
end

-- accUpdateGradParameters as Torch7 does it for modules sharing their parameters (the step
-- clones share them): the gradient on its own (zeroGradParameters, accGradParameters), then
-- updateParameters(lr)
SeqLSTM.accUpdateGradParameters = nn.Module.sharedAccUpdateGradParameters

-- Element-Research rnn: the same LSTM as an nn.FastLSTM (weights and their gradients
-- copied): FastLSTM's gates are input, candidate, forget, output, in nn.Linear's layout
function SeqLSTM:toFastLSTM()
   if self.weightO then
      error('<' .. torch.type(self) .. '> toFastLSTM: an LSTMP (with weightO) has no FastLSTM twin', 2)
   end
   local D, H = self.inputsize, self.outputsize
   local lstm = nn.FastLSTM(D, H)
   if torch.type(self.weight) ~= 'torch.DoubleTensor' then lstm:type(torch.type(self.weight)) end
   local params, grads = lstm:parameters()
   local from = {1, 4, 2, 3}     -- FastLSTM's gate k is SeqLSTM's gate from[k]
   for k, g in ipairs(from) do
      local rows, cols = {(k - 1) * H + 1, k * H}, {(g - 1) * H + 1, g * H}
      for _, pair in ipairs({{params, self.weight, self.bias}, {grads, self.gradWeight, self.gradBias}}) do
         local dst, W, b = pair[1], pair[2], pair[3]
         dst[1][{rows}]:copy(W[{{1, D}, cols}]:t())
         dst[2][{rows}]:copy(b[{cols}])
         dst[3][{rows}]:copy(W[{{D + 1, D + H}, cols}]:t())
      end
   end
   return lstm
end

function SeqLSTM:clearState()
   for _, k in ipairs({'cell', 'gates', 'buffer1', 'buffer2', 'buffer3', 'grad_a_buffer', 'grad_c0',
                       'grad_h0', 'grad_x'}) do
      if torch.isTensor(self[k]) then self[k] = nn.utils.newLike(self[k]) end
   end
   self.output = nn.utils.newLike(self.weight)
   self._output = nil
   self._hidden = nil
   self.zeroMask, self._zeroMask = nil, nil
   return self
end

function SeqLSTM:type(typename, ...)
   if typename then
      self.zeroMask, self._zeroMask, self._maskbyte, self._maskindices = nil, nil, nil, nil
   end
   return parent.type(self, typename, ...)
end

function SeqLSTM:__tostring__()
   return string.format('%s(%d -> %d)', torch.type(self), self.inputsize, self.outputsize)
end

return SeqLSTM
