-- nn.StepLSTM(inputsize, hiddensize [, outputsize]): torch/rnn's one LSTM step, the step
-- module of nn.RecLSTM: input {x, h(t-1), c(t-1)}, output {h(t), c(t)}. weight is
-- (inputsize + outputsize) x 4 hiddensize, its columns the gates input, forget, output,
-- candidate (as nn.SeqLSTM's); with outputsize (an LSTMP) h(t) = (o . tanh(c(t))) weightO.
-- With maskzero the rows of a zeroMask (setZeroMask, version 2) or of an all-zero x (v1) are
-- zero in h, c and the gates. x is a batch (N x inputsize) or one sample. The step runs in
-- NumPy (sparktorch7._rnn_ops.step_lstm).
local schema = require('nn.schema')
local lstmp = require('rnn.lstmp')
local stepcheck = require('rnn.stepcheck')
local kernels = require('nn.kernels')
local StepLSTM, parent = torch.class('nn.StepLSTM', 'nn.Module')

-- weight, bias and weightO as rnn/lstmp.lua describes (read as they are by sparktorch7._rnn_ops)
local hidden = lstmp.hidden

schema.declare(StepLSTM, {
   {'inputsize', 'posint'},
   {'outputsize', 'posint'},
   {'hiddensize', 'posint?'},
   {'weight', 'tensor', check = lstmp.checkWeight},
   {'bias', 'tensor', check = lstmp.checkBias},
   {'weightO', 'tensor?', check = lstmp.checkWeightO},
   {'gradWeight', 'tensor?'}, {'gradBias', 'tensor?'}, {'gradWeightO', 'tensor?'},
   {'gates', 'tensor?'}, {'hidden', 'tensor?'},
   {'maskzero', 'boolean?'}, {'v2', 'boolean?'}, {'zeroMask', 'tensor|boolean?'},
   {'forceLua', 'boolean?'}, {'recompute_backward', 'boolean?'},
})

function StepLSTM:__init(inputsize, hiddensize, outputsize)
   parent.__init(self)
   for i, v in ipairs({inputsize, hiddensize}) do
      if type(v) ~= 'number' or v < 1 then
         error(string.format('<nn.StepLSTM> expects %s (a number >= 1) at argument %d, got %s',
                             i == 1 and 'inputsize' or 'hiddensize', i, tostring(v)), 2)
      end
   end
   if outputsize then
      self.weightO = torch.Tensor(hiddensize, outputsize)
      self.gradWeightO = torch.Tensor(hiddensize, outputsize)
   else
      outputsize = hiddensize
   end
   self.inputsize, self.hiddensize, self.outputsize = inputsize, hiddensize, outputsize
   self.weight = torch.Tensor(inputsize + outputsize, 4 * hiddensize)
   self.gradWeight = torch.Tensor(inputsize + outputsize, 4 * hiddensize)
   self.bias = torch.Tensor(4 * hiddensize)
   self.gradBias = torch.Tensor(4 * hiddensize):zero()
   self:reset()
   self.gates = torch.Tensor()
   self.output = {torch.Tensor(), torch.Tensor()}
   self.gradInput = {torch.Tensor(), torch.Tensor(), torch.Tensor()}
   self.maskzero = false
   self.v2 = true
end

-- as torch/rnn: forget gate bias 1, weights normal(0, 1/sqrt(inputsize + hiddensize))
function StepLSTM:reset(std)
   self.bias:zero()
   self.bias:narrow(1, self.outputsize + 1, self.outputsize):fill(1)
   self.weight:normal(0, std or (1.0 / math.sqrt(self.hiddensize + self.inputsize)))
   if self.weightO then
      self.weightO:normal(0, std or (1.0 / math.sqrt(self.outputsize + self.hiddensize)))
   end
   return self
end

function StepLSTM:backCompatibility(version)
   parent.backCompatibility(self, version)
   self.hiddensize = self.hiddensize or self.outputsize
   if self.v2 == nil then self.v2 = true end
end

function StepLSTM:updateOutput(input)
   local H, R = hidden(self), self.outputsize
   local N, single, t = stepcheck.input(self, input, {R, H}, {'h(t-1)', 'c(t-1)'})
   local x, prev_h, prev_c = t[1], t[2], t[3]
   if type(self.output) ~= 'table' or torch.typename(self.output) then self.output = {} end
   local next_h = stepcheck.buffer(self, self.output[1]):resize(N, R)
   local next_c = stepcheck.buffer(self, self.output[2]):resize(N, H)
   self.output[1], self.output[2] = next_h, next_c
   self.gates = stepcheck.buffer(self, self.gates):resize(N, 4 * H)
   local hid = false
   if self.weightO then
      self.hidden = stepcheck.buffer(self, self.hidden):resize(N, H)
      hid = self.hidden
   end
   if N > 0 then
      kernels.step_lstm(next_h, next_c, self.gates, x, prev_h, prev_c, self.weight,
                        self.bias, self.weightO or false, hid)
   end
   stepcheck.mask(self, {next_h, next_c, self.gates}, x)
   if single then
      next_h:resize(R)
      next_c:resize(H)
   end
   return self.output
end

-- backward of the step (sparktorch7._rnn_ops.step_lstm_backward): gradOutput {grad h(t),
-- grad c(t)}, gradInput {grad x, grad h(t-1), grad c(t-1)}; scale times the parameter
-- gradients added (none with scale 0)
function StepLSTM:_backward(input, gradOutput, scale)
   local H, R = hidden(self), self.outputsize
   local N, single, t = stepcheck.input(self, input, {R, H}, {'h(t-1)', 'c(t-1)'})
   local x, prev_h, prev_c = t[1], t[2], t[3]
   local next_h, next_c = self.output[1], self.output[2]
   if not (torch.isTensor(self.gates) and self.gates:dim() == 2 and self.gates:size(1) == N) then
      error('<' .. torch.type(self) .. '> backward needs the forward of the same input first', 3)
   end
   local g = stepcheck.gradOutput(self, gradOutput, {next_h, next_c}, N, single)
   if type(self.gradInput) ~= 'table' or torch.typename(self.gradInput) then self.gradInput = {} end
   local gi = self.gradInput
   for i, size in ipairs({self.inputsize, R, H}) do
      gi[i] = stepcheck.buffer(self, gi[i]):resize(N, size)
   end
   if self.weightO and not (torch.isTensor(self.gradWeightO) and self.gradWeightO:isSameSizeAs(self.weightO)) then
      self.gradWeightO = stepcheck.buffer(self, self.gradWeightO):resizeAs(self.weightO):zero()
   end
   if N > 0 then
      kernels.step_lstm_backward(gi[1], gi[2], gi[3], self.gradWeight, self.gradBias, self.gradWeightO or false,
                                 x, prev_h, prev_c, next_h:view(N, R), next_c:view(N, H), self.gates,
                                 self.weight, self.weightO or false, self.weightO and self.hidden or false,
                                 g[1], g[2], scale)
   end
   if single then
      gi[1]:resize(self.inputsize); gi[2]:resize(R); gi[3]:resize(H)
   end
   return self.gradInput
end

function StepLSTM:updateGradInput(input, gradOutput)
   return self:_backward(input, gradOutput, 0)
end

function StepLSTM:accGradParameters(input, gradOutput, scale)
   self:_backward(input, gradOutput, scale or 1)
end

function StepLSTM:backward(input, gradOutput, scale)
   return self:_backward(input, gradOutput, scale or 1)
end

-- accUpdateGradParameters as Torch7 does it for modules sharing their parameters (the step
-- clones share them): the gradient on its own (zeroGradParameters, accGradParameters), then
-- updateParameters(lr)
StepLSTM.accUpdateGradParameters = nn.Module.sharedAccUpdateGradParameters

StepLSTM.maskZero = stepcheck.maskZero
StepLSTM.setZeroMask = stepcheck.setZeroMask

-- sharedClone (a step clone in training) shares weightO too
StepLSTM.dpnn_parameters = {'weight', 'bias', 'weightO'}
StepLSTM.dpnn_gradParameters = {'gradWeight', 'gradBias', 'gradWeightO'}

function StepLSTM:parameters()
   return {self.weight, self.bias, self.weightO}, {self.gradWeight, self.gradBias, self.gradWeightO}
end

function StepLSTM:clearState()
   self.gates = nn.utils.newLike(self.weight)
   self.output = {nn.utils.newLike(self.weight), nn.utils.newLike(self.weight)}
   self.hidden = nil
   self.zeroMask = nil
   return self
end

function StepLSTM:type(typename, ...)
   if typename then self:clearState() end
   return parent.type(self, typename, ...)
end

function StepLSTM:__tostring__()
   if self.weightO then
      return string.format('%s(%d -> %d -> %d)', torch.type(self), self.inputsize, self.hiddensize, self.outputsize)
   end
   return string.format('%s(%d -> %d)', torch.type(self), self.inputsize, self.outputsize)
end

return StepLSTM
