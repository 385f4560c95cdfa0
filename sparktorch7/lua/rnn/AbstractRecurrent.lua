-- nn.AbstractRecurrent: the base of rnn's recurrent modules (Recurrent, LSTM,
-- GRU, Recursor, Recurrence). One forward is one time step: self.step counts
-- them, self.outputs[step] keeps each step's output, forget() starts a new
-- sequence. In training (train ~= false) step t runs sharedClones[t], a clone
-- of recurrentModule sharing its parameters (kept for the last rho steps); in
-- evaluation every step runs recurrentModule itself.
local schema = require('nn.schema')
local AbstractRecurrent, parent = torch.class('nn.AbstractRecurrent', 'nn.Container')

-- torch-rnn (and other projects) name their own classes nn.LSTM, nn.GRU...: an object with
-- no recurrentModule but fields like theirs is one of those (checked before the schema, whose
-- messages would name rnn's fields)
local function refuseForeign(self)
   local modules = rawget(self, 'modules')
   if rawget(self, 'recurrentModule') == nil and not (type(modules) == 'table' and modules[1] ~= nil)
         and (rawget(self, 'hidden_dim') or rawget(self, 'input_dim') or torch.isTensor(rawget(self, 'weight'))) then
      error(string.format("<%s> this object was not saved by Element-Research rnn's %s (it has no "
                          .. "recurrentModule but fields like weight/hidden_dim, as torch-rnn's): define "
                          .. "the project's class (put its Lua folder on lua_path and require it) "
                          .. "instead of requiring rnn", torch.type(self), torch.type(self)), 0)
   end
end

-- a module kept under its own name (not only in modules) must not contain this one: forward
-- would recurse without end
local function notContainingSelf(m, self)
   if schema.reaches(m, self) then
      return 'a module that does not contain the ' .. torch.typename(self) .. ' itself',
             'one that contains it (a cycle)'
   end
end

-- sharedClones: the step modules by time step (gaps allowed), none containing this one
local function stepClones(clones, self)
   local expected, held = schema.moduleMap(clones)
   if expected then return expected, held end
   for k, m in pairs(clones) do
      if schema.reaches(m, self) then
         return 'step clones that do not contain the ' .. torch.typename(self) .. ' itself',
                string.format('one at step %d that contains it (a cycle)', k)
      end
   end
end

-- files of every rnn version: the step bookkeeping may be missing (backCompatibility fills it)
schema.declare(AbstractRecurrent, {
   -- fields of torch-rnn's classes of the same names, never of rnn's (refuseForeign)
   {'weight', 'any?', check = function(_, self) refuseForeign(self) end},
   {'hidden_dim', 'any?', check = function(_, self) refuseForeign(self) end},
   {'input_dim', 'any?', check = function(_, self) refuseForeign(self) end},
   {'rho', 'natural?'},
   {'seqlen', 'natural?'},          -- torch/rnn's name for rho
   {'zeroMask', 'tensor|boolean?'}, {'zeroMaskStep', 'natural?'},
   {'maskzero', 'boolean?'},
   {'startState', 'tensor|table?'},
   {'step', 'natural?'},
   {'recurrentModule', 'module?', check = notContainingSelf},
   {'sharedClones', 'table?', check = stepClones},
   {'nSharedClone', 'natural?'},
   {'rmInSharedClones', 'boolean?'},
   {'outputs', 'table?'}, {'gradInputs', 'table?'},
   {'_gradOutputs', 'table?'}, {'gradOutputs', 'table?'},
   {'userPrevOutput', 'tensor|table?'}, {'gradPrevOutput', 'tensor|table?'},
   {'updateGradInputStep', 'natural?'}, {'accGradParametersStep', 'natural?'},
})

AbstractRecurrent.dpnn_stepclone = true

-- per module (weak keys: nothing of it goes to files), the gradOutput each step's module got
-- from updateGradInput, for accGradParameters
local stepGradOutputs = setmetatable({}, {__mode = 'k'})

function AbstractRecurrent:__init(rho)
   parent.__init(self)
   self.rho = rho or 99999
   self.outputs = {}
   self.gradInputs = {}
   self._gradOutputs = {}
   self.gradOutputs = {}
   self.step = 1
   self.sharedClones = {}
   self:reset()
end

-- files from every rnn version: the step bookkeeping may be missing
function AbstractRecurrent:backCompatibility(version)
   parent.backCompatibility(self, version)
   self.outputs = self.outputs or {}
   self.gradInputs = self.gradInputs or {}
   self._gradOutputs = self._gradOutputs or {}
   self.gradOutputs = self.gradOutputs or {}
   self.sharedClones = self.sharedClones or {}
   self.step = self.step or 1
   self.rho = self.rho or self.seqlen or 99999
   if self.recurrentModule == nil and type(self.modules) == 'table' then
      self.recurrentModule = self.modules[1]
   end
   refuseForeign(self)
end

local function count(t)
   local n = 0
   for _ in pairs(t) do n = n + 1 end
   return n
end

-- the values of t in key order, renumbered 1..n (moses' compact)
local function compact(t)
   local keys = {}
   for k in pairs(t) do
      if type(k) == 'number' then keys[#keys + 1] = k end
   end
   table.sort(keys)
   local out = {}
   for i, k in ipairs(keys) do out[i] = t[k] end
   return out
end

function AbstractRecurrent:getStepModule(step)
   if not step then
      error('<' .. torch.type(self) .. '> getStepModule expects a step', 2)
   end
   local m = self.sharedClones[step]
   if not m then
      if not self.recurrentModule then
         error('<' .. torch.type(self) .. '> has no recurrentModule', 2)
      end
      m = self.recurrentModule:stepClone()
      self.sharedClones[step] = m
      self.nSharedClone = count(self.sharedClones)
   end
   return m
end

-- The module that runs this step: a per-step clone in training (recycled), the recurrent
-- module itself in evaluation.
function AbstractRecurrent:_stepModule()
   local m
   if self.train ~= false then
      self:recycle()
      m = self:getStepModule(self.step)
   else
      m = self.recurrentModule
   end
   if self.zeroMask then
      -- torch/rnn: step t masks the rows where zeroMask[t] is 1
      self.zeroMaskStep = (self.zeroMaskStep or 0) + 1
      if self.zeroMaskStep > self.zeroMask:size(1) then
         error(string.format('<%s> forward called for step %d, but the zeroMask given to setZeroMask has %d steps',
                             torch.type(self), self.zeroMaskStep, self.zeroMask:size(1)), 3)
      end
      m:setZeroMask(self.zeroMask[self.zeroMaskStep])
   end
   return m
end

-- torch/rnn: the zeroMask (seqlen x batchsize) of the next steps, one row per forward; false
-- turns masking off
function AbstractRecurrent:setZeroMask(zeroMask)
   if zeroMask == false then
      self.zeroMask = false
      for _, m in pairs(self.sharedClones) do m:setZeroMask(false) end
      if self.recurrentModule then self.recurrentModule:setZeroMask(false) end
   elseif torch.isTypeOf(self.recurrentModule, 'nn.AbstractRecurrent') then
      self.recurrentModule:setZeroMask(zeroMask)
   else
      if not torch.isTensor(zeroMask) or zeroMask:dim() < 2 then
         error('<' .. torch.type(self) .. '> setZeroMask expects a seqlen x batchsize ByteTensor or false, got '
               .. (torch.isTensor(zeroMask) and zeroMask:dim() .. 'D' or torch.type(zeroMask)), 2)
      end
      self.zeroMask = zeroMask
      self.zeroMaskStep = 0
   end
end

-- torch/rnn: the state before the first step (h[0]), instead of zeros
function AbstractRecurrent:setStartState(startState)
   self.startState = startState
end

-- the step a hidden-state accessor means: nil the last one, negative counted back (torch/rnn)
function AbstractRecurrent:_resolveStep(step)
   if step == nil then return self.step - 1 end
   if step < 0 then return self.step - step - 1 end
   return step
end

-- self[field] as zeros shaped like one step's state: N x size for a batch input, size for
-- one sample, of the input's tensor type
function AbstractRecurrent:_zeroState(field, input, size)
   local z = self[field]
   if not torch.isTensor(z) or (torch.isTensor(input) and torch.type(z) ~= torch.type(input)) then
      z = torch.isTensor(input) and nn.utils.newLike(input) or torch.Tensor()
      self[field] = z
   end
   if torch.isTensor(input) then
      if input:dim() == 2 then z:resize(input:size(1), size):zero() else z:resize(size):zero() end
   end
   return z
end

-- Records output (and the cell of LSTMs) as this step's and moves on to the next step.
function AbstractRecurrent:_stepDone(output, cell)
   self.outputs[self.step] = output
   self.output = output
   if cell ~= nil then
      self.cells[self.step] = cell
      self.cell = cell
   end
   self.step = self.step + 1
   self.gradPrevOutput = nil
   self.updateGradInputStep = nil
   self.accGradParametersStep = nil
   return self.output
end

-- maskZero(nInputDim) (Element-Research rnn) or maskZero([v1]) (torch/rnn: once, zeroMask
-- version 2 unless v1)
function AbstractRecurrent:maskZero(nInputDim)
   if type(nInputDim) == 'number' then
      self.recurrentModule = nn.MaskZero(self.recurrentModule, nInputDim, true)
   else
      if self.maskzero then return self end
      if torch.isTypeOf(self.recurrentModule, 'nn.AbstractRecurrent') then
         error('<' .. torch.type(self) .. '> cannot zero-mask a recurrent module inside another', 2)
      end
      self.maskzero = true
      self.recurrentModule = nn.MaskZero(self.recurrentModule, nInputDim and true or false)
   end
   self.sharedClones = {self.recurrentModule}
   self.modules[1] = self.recurrentModule
   return self
end

function AbstractRecurrent:trimZero(nInputDim)
   self.recurrentModule = nn.TrimZero(self.recurrentModule, nInputDim, true)
   self.sharedClones = {self.recurrentModule}
   self.modules[1] = self.recurrentModule
   return self
end

-- keeps the clones of the last rho steps: the oldest one serves the new step
function AbstractRecurrent:recycle(offset)
   self.nSharedClone = self.nSharedClone or count(self.sharedClones)
   local rho = math.max(self.rho + 1, self.nSharedClone)
   if self.sharedClones[self.step] == nil then
      self.sharedClones[self.step] = self.sharedClones[self.step - rho]
      self.sharedClones[self.step - rho] = nil
      self._gradOutputs[self.step] = self._gradOutputs[self.step - rho]
      self._gradOutputs[self.step - rho] = nil
   end
   self.outputs[self.step - rho - 1] = nil
   self.gradInputs[self.step - rho - 1] = nil
   -- the gradients backward left for steps that old (remember(): the steps keep counting)
   self.gradOutputs[self.step - rho - 1] = nil
   if self.gradCells then self.gradCells[self.step - rho - 1] = nil end
   if stepGradOutputs[self] then stepGradOutputs[self][self.step - rho - 1] = nil end
   return self
end

-- a new sequence: the step restarts at 1 and (in training) the kept outputs go
function AbstractRecurrent:forget()
   parent.forget(self)
   stepGradOutputs[self] = nil
   self.updateGradInputStep, self.accGradParametersStep = nil, nil
   if self.train ~= false then
      self.outputs = {}
      self.gradInputs = {}
      self.sharedClones = compact(self.sharedClones)
      self._gradOutputs = compact(self._gradOutputs)
      self.gradOutputs = {}
      if self.cells then
         self.cells = {}
         self.gradCells = {}
      end
   end
   self.step = 1
   if not self.rmInSharedClones then
      -- recurrentModule must be one of the clones (rnn issue 129)
      local n, maxIdx = 0, 1
      for k, v in pairs(self.sharedClones) do
         if v == self.recurrentModule then
            self.rmInSharedClones = true
            maxIdx = math.max(k, maxIdx)
         end
         n = n + 1
      end
      if n > 1 and not self.rmInSharedClones then
         self.recurrentModule = self.sharedClones[maxIdx]
         self.rmInSharedClones = true
      end
   end
   return self
end

function AbstractRecurrent:clearState()
   self:forget()
   nn.utils.clear(self, '_input', '_gradOutput', '_gradOutputs', 'gradPrevOutput', 'cell', 'cells',
                  'gradCells', 'outputs', 'gradInputs', 'gradOutputs', '_zeroGradOutput', '_zeroGradCell')
   stepGradOutputs[self] = nil
   for _, clone in pairs(self.sharedClones) do
      clone:clearState()
   end
   if self.recurrentModule then self.recurrentModule:clearState() end
   self.zeroMask = nil
   return parent.clearState(self)
end

-- f() run with self.modules holding the modules and every clone
function AbstractRecurrent:includingSharedClones(f)
   local modules, clones = self.modules, self.sharedClones
   self.sharedClones = nil
   self.modules = {}
   for _, list in ipairs({modules, clones}) do
      for _, m in pairs(list or {}) do
         table.insert(self.modules, m)
      end
   end
   local ok, r = pcall(f)
   self.modules, self.sharedClones = modules, clones
   if not ok then error(r, 0) end
   return r
end

function AbstractRecurrent:type(typename, tensorCache)
   if not typename then
      return parent.type(self)
   end
   return self:includingSharedClones(function()
      return parent.type(self, typename, tensorCache)
   end)
end

-- The type of the step-module layers (LSTM, FastLSTM, GRU, RecLSTM): a change of type starts
-- afresh, their per-step state and buffers dropped first (X.type = AbstractRecurrent.typeAfresh).
function AbstractRecurrent:typeAfresh(typename, ...)
   if typename then
      self:forget()
      self:clearState()
   end
   return AbstractRecurrent.type(self, typename, ...)
end

-- a REINFORCE reward reaches the step module and every per-step clone (dpnn's reinforce)
function AbstractRecurrent:reinforce(reward)
   return self:includingSharedClones(function() return parent.reinforce(self, reward) end)
end

function AbstractRecurrent:training()
   return self:includingSharedClones(function() return parent.training(self) end)
end

function AbstractRecurrent:evaluate()
   return self:includingSharedClones(function() return parent.evaluate(self) end)
end

function AbstractRecurrent:setOutputStep(step)
   self.output = self.outputs[step]
   if not self.output then
      error(string.format('<%s> no output for step %d', torch.type(self), step), 2)
   end
   self.gradInput = self.gradInputs[step]
end

function AbstractRecurrent:maxBPTTstep(rho)
   self.rho = rho
end

-- ---------------------------------------------------------------- backward (BPTT)
-- Element-Research rnn's protocol: after forward of steps 1..T, updateGradInput(x(t),
-- gradOutput(t)) (and accGradParameters) are called in reverse order, t = T down to 1, each
-- running the step module of that step (its clone) backward. A class says how a step module
-- was called and where the gradient of its state goes:
--   self:_stepCall(step, input) -> the step module and the input forward gave it
--   self:_stepGradOutput(step, gradOutput) -> the step module's gradOutput (gradOutput plus
--        the gradient the next step sent back into this step's state)
--   self:_stepGradInput(step, gradInput) -> the gradient of x(t); keeps the rest (the
--        gradient of the state before the step) for step - 1
-- The defaults are those of a stateless step (nn.Recursor).

function AbstractRecurrent:_stepCall(step, input)
   return self:getStepModule(step), input
end

function AbstractRecurrent:_stepGradOutput(step, gradOutput)
   return gradOutput
end

function AbstractRecurrent:_stepGradInput(step, gradInput)
   return gradInput
end

-- the step updateGradInput/accGradParameters means next (reverse order of time), checked
local function backwardStep(self, counter, what)
   if self.train == false then
      error(string.format('<%s> %s needs training mode: in evaluation every step runs the one recurrentModule, '
                          .. 'whose state is that of the last step (call training() before forward)',
                          torch.type(self), what), 3)
   end
   local step = (self[counter] or self.step) - 1
   if step < 1 then
      error(string.format('<%s> %s called for more steps than forward ran since the last forget() '
                          .. '(%d): call it once per step, in reverse order of time', torch.type(self), what,
                          self.step - 1), 3)
   end
   local kept = math.max(self.rho + 1, self.nSharedClone or 0)
   if step < self.step - kept then
      error(string.format('<%s> %s for step %d, but only the last %d steps are kept (rho %d): set rho to '
                          .. 'the sequence length', torch.type(self), what, step, kept, self.rho), 3)
   end
   return step
end

-- zeros shaped like x (a tensor or a nested table), kept in self[field]
function AbstractRecurrent:_zerosLike(field, x)
   local z = rnn.recursiveResizeAs(self[field], x)
   self[field] = z
   return rnn.recursiveFill(z, 0)
end

-- the gradient sent back into the state of step (kind 'output' or 'cell') by step + 1; after
-- the last step userNextGradOutput/userNextGradCell (rnn's names) or zeros
function AbstractRecurrent:_gradState(step, kind, like)
   local store = kind == 'cell' and self.gradCells or self.gradOutputs
   local g = store and store[step]
   if g == nil and step == self.step - 1 then
      g = kind == 'cell' and self.userNextGradCell or self.userNextGradOutput
   end
   if g == nil then
      g = self:_zerosLike(kind == 'cell' and '_zeroGradCell' or '_zeroGradOutput', like)
   end
   return g
end

-- gradOutput plus the gradient from step + 1 into this step's output, in _gradOutputs[step]
function AbstractRecurrent:_outputGrad(step, gradOutput)
   local g = self:_gradState(step, 'output', self.outputs[step])
   self._gradOutputs[step] = rnn.recursiveCopy(self._gradOutputs[step], g)
   rnn.recursiveAdd(self._gradOutputs[step], gradOutput)
   return self._gradOutputs[step]
end

function AbstractRecurrent:updateGradInput(input, gradOutput)
   local step = backwardStep(self, 'updateGradInputStep', 'updateGradInput')
   local m, stepInput = self:_stepCall(step, input)
   local g = self:_stepGradOutput(step, gradOutput)
   local gi = self:rethrowErrors(m, step, 'updateGradInput', stepInput, g)
   stepGradOutputs[self] = stepGradOutputs[self] or {}
   stepGradOutputs[self][step] = g
   self.gradInput = self:_stepGradInput(step, gi)
   self.updateGradInputStep = step
   self.gradInputs[step] = self.gradInput
   return self.gradInput
end

function AbstractRecurrent:accGradParameters(input, gradOutput, scale)
   local step = backwardStep(self, 'accGradParametersStep', 'accGradParameters')
   if step < (self.updateGradInputStep or self.step) then
      error(string.format('<%s> accGradParameters for step %d before its updateGradInput', torch.type(self), step), 2)
   end
   local m, stepInput = self:_stepCall(step, input)
   self:rethrowErrors(m, step, 'accGradParameters', stepInput, (stepGradOutputs[self] or {})[step], scale)
   self.accGradParametersStep = step
end

-- one step back: the step module's own backward (one pass through it)
function AbstractRecurrent:backward(input, gradOutput, scale)
   local step = backwardStep(self, 'updateGradInputStep', 'backward')
   local m, stepInput = self:_stepCall(step, input)
   local g = self:_stepGradOutput(step, gradOutput)
   local gi = self:rethrowErrors(m, step, 'backward', stepInput, g, scale or 1)
   self.gradInput = self:_stepGradInput(step, gi)
   self.updateGradInputStep, self.accGradParametersStep = step, step
   self.gradInputs[step] = self.gradInput
   return self.gradInput
end

-- the step a gradient-state accessor means (Element-Research rnn): nil the one backward
-- reaches next, negative counted back from it
function AbstractRecurrent:_resolveGradStep(step)
   local from = self.updateGradInputStep or self.step
   if step == nil then return from - 1 end
   if step < 0 then return from - step - 1 end
   return step
end

-- the gradient held for the state of step (kind 'output' or 'cell'): what backward of step + 1
-- (or setGradHiddenState) left, after the last step userNextGradOutput/userNextGradCell or
-- zeros; nil before that
local function heldGrad(self, step, kind)
   local store = kind == 'cell' and self.gradCells or self.gradOutputs
   local like = self.outputs[step] or self.outputs[step + 1]
   if (store and store[step]) ~= nil or step == self.step - 1 then
      return self:_gradState(step, kind, kind == 'cell' and (self.cells[step] or self.cells[step + 1]) or like)
   end
end

-- The hooks of the modules whose step maps {x(t), h(t-1)} to h(t) (GRU, RecGRU, Recurrence):
-- h(t-1) as getHiddenState gives it; the gradient of h(t-1) goes to gradOutputs[t-1].
AbstractRecurrent.hStateHooks = {
   _stepCall = function(self, step, input)
      return self:getStepModule(step), {input, self:getHiddenState(step - 1, input)}
   end,
   _stepGradOutput = function(self, step, gradOutput)
      return self:_outputGrad(step, gradOutput)
   end,
   _stepGradInput = function(self, step, gradInput)
      self.gradOutputs[step - 1] = gradInput[2]
      return gradInput[1]
   end,
   -- Element-Research rnn's access to the gradient of h(step): what step + 1 sent back to it
   getGradHiddenState = function(self, step)
      return heldGrad(self, self:_resolveGradStep(step), 'output')
   end,
   setGradHiddenState = function(self, step, gradHiddenState)
      if not torch.isTensor(gradHiddenState) and type(gradHiddenState) ~= 'table' then
         error('<' .. torch.type(self) .. '> setGradHiddenState expects a tensor (or a table of them, as the '
               .. 'output), got ' .. torch.type(gradHiddenState), 2)
      end
      self.gradOutputs[self:_resolveGradStep(step)] = gradHiddenState
   end,
}

-- The hooks of the LSTMs (LSTM, FastLSTM, RecLSTM): {x(t), h(t-1), c(t-1)} to {h(t), c(t)};
-- the gradients of h(t-1) and c(t-1) go to gradOutputs[t-1] and gradCells[t-1].
AbstractRecurrent.hcStateHooks = {
   _stepCall = function(self, step, input)
      local prev = self:getHiddenState(step - 1, input)
      return self:getStepModule(step), {input, prev[1], prev[2]}
   end,
   _stepGradOutput = function(self, step, gradOutput)
      return {self:_outputGrad(step, gradOutput), self:_gradState(step, 'cell', self.cells[step])}
   end,
   _stepGradInput = function(self, step, gradInput)
      self.gradCells = self.gradCells or {}
      self.gradOutputs[step - 1] = gradInput[2]
      self.gradCells[step - 1] = gradInput[3]
      return gradInput[1]
   end,
   -- {grad h(step), grad c(step)}
   getGradHiddenState = function(self, step)
      step = self:_resolveGradStep(step)
      return {heldGrad(self, step, 'output'), heldGrad(self, step, 'cell')}
   end,
   setGradHiddenState = function(self, step, gradHiddenState)
      if type(gradHiddenState) ~= 'table' or not torch.isTensor(gradHiddenState[1])
            or not torch.isTensor(gradHiddenState[2]) then
         error('<' .. torch.type(self) .. '> setGradHiddenState expects {gradOutput, gradCell} (two tensors), got '
               .. torch.type(gradHiddenState), 2)
      end
      step = self:_resolveGradStep(step)
      self.gradCells = self.gradCells or {}
      self.gradOutputs[step], self.gradCells[step] = gradHiddenState[1], gradHiddenState[2]
   end,
}

-- a class takes a set of hooks: AbstractRecurrent.useHooks(LSTM, AbstractRecurrent.hcStateHooks)
function AbstractRecurrent.useHooks(class, hooks)
   for k, f in pairs(hooks) do class[k] = f end
end

local function notImplemented(name)
   return function(self)
      error(string.format('<%s> %s is not implemented', torch.type(self), name), 2)
   end
end

AbstractRecurrent.getHiddenState = notImplemented('getHiddenState')
AbstractRecurrent.setHiddenState = notImplemented('setHiddenState')

AbstractRecurrent.recursiveResizeAs = function(...) return rnn.recursiveResizeAs(...) end
AbstractRecurrent.recursiveSet = function(...) return rnn.recursiveSet(...) end
AbstractRecurrent.recursiveCopy = function(...) return rnn.recursiveCopy(...) end
AbstractRecurrent.recursiveAdd = function(...) return rnn.recursiveAdd(...) end

function AbstractRecurrent:__tostring__()
   if self.inputSize and self.outputSize then
      return torch.type(self) .. string.format('(%d -> %d)', self.inputSize, self.outputSize)
   end
   return parent.__tostring__(self)
end

return AbstractRecurrent
