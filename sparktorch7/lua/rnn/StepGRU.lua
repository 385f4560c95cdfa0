-- nn.StepGRU(inputsize, outputsize): torch/rnn's one GRU step, the step module of nn.RecGRU:
-- input {x, h(t-1)}, output h(t). weight is (inputsize + outputsize) x 3 outputsize, its
-- columns the gates reset, update, candidate (as nn.SeqGRU's):
--   [r u] = sigmoid(x Wx + h(t-1) Wh + b), hc = tanh(x Wx_c + b_c + (r . h(t-1)) Wh_c),
--   h(t) = (1 - u) . hc + u . h(t-1).
-- maskzero and one-sample inputs as nn.StepLSTM. The step runs in NumPy.
local schema = require('nn.schema')
local stepcheck = require('rnn.stepcheck')
local kernels = require('nn.kernels')
local StepGRU, parent = torch.class('nn.StepGRU', 'nn.Module')

schema.declare(StepGRU, {
   {'inputsize', 'posint'},
   {'outputsize', 'posint'},
   {'weight', 'tensor', size = {'inputsize + outputsize', '3 * outputsize'}},
   {'bias', 'tensor', size = {'3 * outputsize'}},
   {'gradWeight', 'tensor?'}, {'gradBias', 'tensor?'},
   {'gates', 'tensor?'},
   {'maskzero', 'boolean?'}, {'v2', 'boolean?'}, {'zeroMask', 'tensor|boolean?'},
   {'forceLua', 'boolean?'}, {'recompute_backward', 'boolean?'},
})

function StepGRU:__init(inputsize, outputsize)
   parent.__init(self)
   for i, v in ipairs({inputsize, outputsize}) do
      if type(v) ~= 'number' or v < 1 then
         error(string.format('<nn.StepGRU> expects %s (a number >= 1) at argument %d, got %s',
                             i == 1 and 'inputsize' or 'outputsize', i, tostring(v)), 2)
      end
   end
   self.inputsize, self.outputsize = inputsize, outputsize
   self.weight = torch.Tensor(inputsize + outputsize, 3 * outputsize)
   self.gradWeight = torch.Tensor(inputsize + outputsize, 3 * outputsize)
   self.bias = torch.Tensor(3 * outputsize)
   self.gradBias = torch.Tensor(3 * outputsize):zero()
   self:reset()
   self.gates = torch.Tensor()
   self.gradInput = {torch.Tensor(), torch.Tensor()}
   self.maskzero = false
   self.v2 = true
end

function StepGRU:reset(std)
   self.bias:zero()
   self.bias:narrow(1, self.outputsize + 1, self.outputsize):fill(1)
   self.weight:normal(0, std or (1.0 / math.sqrt(self.outputsize + self.inputsize)))
   return self
end

function StepGRU:backCompatibility(version)
   parent.backCompatibility(self, version)
   if self.v2 == nil then self.v2 = true end
end

function StepGRU:updateOutput(input)
   local H = self.outputsize
   local N, single, t = stepcheck.input(self, input, {H}, {'h(t-1)'})
   local x, prev_h = t[1], t[2]
   local next_h = stepcheck.buffer(self, torch.isTensor(self.output) and self.output or nil):resize(N, H)
   self.output = next_h
   self.gates = stepcheck.buffer(self, self.gates):resize(N, 3 * H)
   if N > 0 then
      kernels.step_gru(next_h, self.gates, x, prev_h, self.weight, self.bias)
   end
   stepcheck.mask(self, {next_h, self.gates}, x)
   if single then next_h:resize(H) end
   return self.output
end

-- backward of the step (sparktorch7._rnn_ops.step_gru_backward): gradOutput grad h(t),
-- gradInput {grad x, grad h(t-1)}; scale times the parameter gradients added
function StepGRU:_backward(input, gradOutput, scale)
   local H = self.outputsize
   local N, single, t = stepcheck.input(self, input, {H}, {'h(t-1)'})
   local x, prev_h = t[1], t[2]
   if not (torch.isTensor(self.gates) and self.gates:dim() == 2 and self.gates:size(1) == N) then
      error('<' .. torch.type(self) .. '> backward needs the forward of the same input first', 3)
   end
   local g = stepcheck.gradOutput(self, gradOutput, {self.output}, N, single)
   if type(self.gradInput) ~= 'table' or torch.typename(self.gradInput) then self.gradInput = {} end
   local gi = self.gradInput
   gi[1] = stepcheck.buffer(self, gi[1]):resize(N, self.inputsize)
   gi[2] = stepcheck.buffer(self, gi[2]):resize(N, H)
   if N > 0 then
      kernels.step_gru_backward(gi[1], gi[2], self.gradWeight, self.gradBias, x, prev_h, self.output:view(N, H),
                                self.gates, self.weight, g[1], scale)
   end
   if single then
      gi[1]:resize(self.inputsize); gi[2]:resize(H)
   end
   return self.gradInput
end

StepGRU.updateGradInput = nn.StepLSTM.updateGradInput
StepGRU.accGradParameters = nn.StepLSTM.accGradParameters
StepGRU.backward = nn.StepLSTM.backward

-- accUpdateGradParameters as Torch7 does it for modules sharing their parameters (the step
-- clones share them): the gradient on its own (zeroGradParameters, accGradParameters), then
-- updateParameters(lr)
StepGRU.accUpdateGradParameters = nn.Module.sharedAccUpdateGradParameters

StepGRU.maskZero = stepcheck.maskZero
StepGRU.setZeroMask = stepcheck.setZeroMask

function StepGRU:clearState()
   self.gates = nn.utils.newLike(self.weight)
   self.output = nn.utils.newLike(self.weight)
   self.zeroMask = nil
   return self
end

function StepGRU:type(typename, ...)
   if typename then self:clearState() end
   return parent.type(self, typename, ...)
end

function StepGRU:__tostring__()
   return string.format('%s(%d -> %d)', torch.type(self), self.inputsize, self.outputsize)
end

return StepGRU
