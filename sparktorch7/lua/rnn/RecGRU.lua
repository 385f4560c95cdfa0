-- nn.RecGRU(inputsize, outputsize): torch/rnn's GRU, one step per forward (an
-- AbstractRecurrent around an nn.StepGRU): input x(t) (batch x inputsize, or one sample),
-- output h(t). The first step starts from zeros or from setStartState(h0); maskZero and
-- setZeroMask as nn.RecLSTM.
local schema = require('nn.schema')
local RecGRU, parent = torch.class('nn.RecGRU', 'nn.AbstractRecurrent')

local function stepModule(m)
   if torch.type(m) ~= 'nn.StepGRU' then
      return 'an nn.StepGRU (the step module)', 'an ' .. torch.type(m)
   end
end

schema.declare(RecGRU, {
   {'inputsize', 'posint'},
   {'outputsize', 'posint'},
   {'modules', 'modules', check = function(ms, self)
      if #ms ~= 1 then return 'a list of one module (the nn.StepGRU)', string.format('%d modules', #ms) end
      local bad, held = stepModule(ms[1])
      if bad then return bad, held end
      if ms[1].inputsize ~= self.inputsize or ms[1].outputsize ~= self.outputsize then
         return string.format('an nn.StepGRU(%d -> %d) as the RecGRU', self.inputsize, self.outputsize),
                string.format('an nn.StepGRU(%s -> %s)', tostring(ms[1].inputsize), tostring(ms[1].outputsize))
      end
   end},
   {'recurrentModule', 'module?', check = stepModule},
   {'zeroOutput', 'tensor?'}, {'_prevOutput', 'tensor?'},
})

function RecGRU:__init(inputsize, outputsize)
   parent.__init(self, 99999)
   local step = nn.StepGRU(inputsize, outputsize)
   self.recurrentModule = step
   self.modules[1] = step
   self.sharedClones = {step}
   self.inputsize, self.outputsize = inputsize, outputsize
   self.zeroOutput = torch.Tensor()
end

RecGRU.maskZero = nn.RecLSTM.maskZero

function RecGRU:getHiddenState(step, input)
   step = self:_resolveStep(step)
   if step == 0 then
      return self.startState or self:_zeroState('zeroOutput', input, self.outputsize)
   end
   return self.outputs[step]
end

function RecGRU:setHiddenState(step, hiddenState)
   step = self:_resolveStep(step)
   if not torch.isTensor(hiddenState) then
      error('<' .. torch.type(self) .. '> setHiddenState expects a tensor, got ' .. torch.type(hiddenState), 2)
   end
   if step == 0 then self:setStartState(hiddenState) else self.outputs[step] = hiddenState end
end

function RecGRU:setStartState(startState)
   if startState ~= nil and not torch.isTensor(startState) then
      error('<' .. torch.type(self) .. '> setStartState expects h0 (a tensor) or nil, got ' .. torch.type(startState), 2)
   end
   self.startState = startState
end

function RecGRU:updateOutput(input)
   if not torch.isTensor(input) or (input:dim() ~= 1 and input:dim() ~= 2)
         or input:size(input:dim()) ~= self.inputsize then
      error(string.format('<%s> input must be a batch (N x %d) or one sample (%d) of one time step, got %s',
                          torch.type(self), self.inputsize, self.inputsize, torch.isTensor(input)
                          and (input:dim() == 0 and 'an empty tensor' or table.concat(input:size():totable(), 'x'))
                          or torch.type(input)), 2)
   end
   local prevOutput = self:getHiddenState(self.step - 1, input)
   local m = self:_stepModule()
   local output = self:rethrowErrors(m, 1, 'updateOutput', {input, prevOutput})
   return self:_stepDone(output)
end

function RecGRU:clearState()
   self.startState = nil
   if torch.isTensor(self.zeroOutput) then self.zeroOutput = nn.utils.newLike(self.zeroOutput) end
   self._prevOutput = nil
   return parent.clearState(self)
end

RecGRU.type = nn.RecLSTM.type

function RecGRU:__tostring__()
   return string.format('%s(%d -> %d)', torch.type(self), self.inputsize, self.outputsize)
end


-- backward: Element-Research rnn's BPTT (AbstractRecurrent), the state as {x, h}
parent.useHooks(RecGRU, parent.hStateHooks)

return RecGRU
