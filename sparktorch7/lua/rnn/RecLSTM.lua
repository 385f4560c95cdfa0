-- nn.RecLSTM(inputsize, hiddensize [, outputsize]): torch/rnn's LSTM, one step per forward
-- (an AbstractRecurrent around an nn.StepLSTM): input x(t) (batch x inputsize, or one
-- sample), output h(t); the cell of each step is kept in cells. The first step starts from
-- zeros, or from setStartState{h0, c0}. Decorated by nn.Sequencer it runs whole sequences;
-- maskZero() masks the steps of a zeroMask given by setZeroMask(seqlen x batch).
local unpack = unpack or table.unpack
local schema = require('nn.schema')
local RecLSTM, parent = torch.class('nn.RecLSTM', 'nn.AbstractRecurrent')

local function stepModule(m)
   if torch.type(m) ~= 'nn.StepLSTM' then
      return 'an nn.StepLSTM (the step module)', 'an ' .. torch.type(m)
   end
end

schema.declare(RecLSTM, {
   {'inputsize', 'posint'},
   {'outputsize', 'posint'},
   {'hiddensize', 'posint?'},
   {'modules', 'modules', check = function(ms, self)
      if #ms ~= 1 then return 'a list of one module (the nn.StepLSTM)', string.format('%d modules', #ms) end
      local bad, held = stepModule(ms[1])
      if bad then return bad, held end
      local m = ms[1]
      if m.inputsize ~= self.inputsize or m.outputsize ~= self.outputsize then
         return string.format('an nn.StepLSTM(%d -> %d) as the RecLSTM', self.inputsize, self.outputsize),
                string.format('an nn.StepLSTM(%s -> %s)', tostring(m.inputsize), tostring(m.outputsize))
      end
   end},
   {'recurrentModule', 'module?', check = stepModule},
   {'cells', 'table?'}, {'gradCells', 'table?'},
   {'zeroOutput', 'tensor?'}, {'zeroCell', 'tensor?'},
})

function RecLSTM:__init(inputsize, hiddensize, outputsize)
   parent.__init(self, 99999)
   local step = nn.StepLSTM(inputsize, hiddensize, outputsize)
   self.recurrentModule = step
   self.modules[1] = step
   self.sharedClones = {step}
   self.inputsize, self.hiddensize, self.outputsize = step.inputsize, step.hiddensize, step.outputsize
   self.cells = {}
   self.gradCells = {}
   self.zeroOutput = torch.Tensor()
   self.zeroCell = torch.Tensor()
end

function RecLSTM:backCompatibility(version)
   parent.backCompatibility(self, version)
   self.hiddensize = self.hiddensize or self.outputsize
   self.cells = self.cells or {}
   self.gradCells = self.gradCells or {}
end

-- torch/rnn: the StepLSTMs themselves mask (no MaskZero around them)
function RecLSTM:maskZero(v1)
   for _, m in pairs(self.sharedClones) do m:maskZero(v1) end
   self.recurrentModule:maskZero(v1)
   return self
end

local function checkInput(self, input)
   if not torch.isTensor(input) or (input:dim() ~= 1 and input:dim() ~= 2)
         or input:size(input:dim()) ~= self.inputsize then
      error(string.format('<%s> input must be a batch (N x %d) or one sample (%d) of one time step, got %s',
                          torch.type(self), self.inputsize, self.inputsize, torch.isTensor(input)
                          and (input:dim() == 0 and 'an empty tensor' or table.concat(input:size():totable(), 'x'))
                          or torch.type(input)), 3)
   end
end

function RecLSTM:getHiddenState(step, input)
   step = self:_resolveStep(step)
   if step == 0 then
      if self.startState then
         return {self.startState[1], self.startState[2]}
      end
      return {self:_zeroState('zeroOutput', input, self.outputsize),
              self:_zeroState('zeroCell', input, self.hiddensize)}
   end
   return {self.outputs[step], self.cells[step]}
end

function RecLSTM:setHiddenState(step, hiddenState)
   step = self:_resolveStep(step)
   if type(hiddenState) ~= 'table' or not torch.isTensor(hiddenState[1]) or not torch.isTensor(hiddenState[2]) then
      error('<' .. torch.type(self) .. '> setHiddenState expects {h, c} (two tensors)', 2)
   end
   if step == 0 then
      self:setStartState(hiddenState)
   else
      self.outputs[step], self.cells[step] = hiddenState[1], hiddenState[2]
   end
end

function RecLSTM:setStartState(startState)
   if startState ~= nil and (type(startState) ~= 'table' or not torch.isTensor(startState[1])
         or not torch.isTensor(startState[2])) then
      error('<' .. torch.type(self) .. '> setStartState expects {h0, c0} (two tensors) or nil', 2)
   end
   self.startState = startState
end

function RecLSTM:updateOutput(input)
   checkInput(self, input)
   local prevOutput, prevCell = unpack(self:getHiddenState(self.step - 1, input))
   local m = self:_stepModule()
   local out = self:rethrowErrors(m, 1, 'updateOutput', {input, prevOutput, prevCell})
   return self:_stepDone(out[1], out[2])
end

function RecLSTM:clearState()
   self.startState = nil
   if torch.isTensor(self.zeroOutput) then self.zeroOutput = nn.utils.newLike(self.zeroOutput) end
   if torch.isTensor(self.zeroCell) then self.zeroCell = nn.utils.newLike(self.zeroCell) end
   return parent.clearState(self)
end

RecLSTM.type = parent.typeAfresh

function RecLSTM:__tostring__()
   if self.hiddensize and self.hiddensize ~= self.outputsize then
      return string.format('%s(%d -> %d -> %d)', torch.type(self), self.inputsize, self.hiddensize, self.outputsize)
   end
   return string.format('%s(%d -> %d)', torch.type(self), self.inputsize, self.outputsize)
end


-- backward: Element-Research rnn's BPTT (AbstractRecurrent), the state as {x, h, c}
parent.useHooks(RecLSTM, parent.hcStateHooks)

return RecLSTM
