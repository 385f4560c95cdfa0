-- nn.LSTM(inputSize, outputSize, rho, cell2gate, p, mono): rnn's LSTM, one
-- time step per forward, with peephole connections (cell2gate, the default):
--   i = sigmoid(Wi x + Ui h(t-1) + Vi . c(t-1)),  f likewise,
--   z = tanh(Wz x + Uz h(t-1)),  c(t) = f . c(t-1) + i . z,
--   o = sigmoid(Wo x + Uo h(t-1) + Vo . c(t)),  h(t) = o . tanh(c(t)).
-- recurrentModule maps {x, h(t-1), c(t-1)} to {h(t), c(t)}; the first step
-- starts from zeros (or userPrevOutput/userPrevCell).
local ext = require('rnn.extensions')
local schema = require('nn.schema')
local kernels = require('nn.kernels')
local LSTM, parent = torch.class('nn.LSTM', 'nn.AbstractRecurrent')

-- a gate buildGate/buildHidden makes: Linear(inputSize, outputSize) on x, LinearNoBias(outputSize,
-- outputSize) on h(t-1) and (peepholes) CMul(outputSize) on c; the evaluation fast path hands
-- their weights to NumPy as they are. Gates of another make are left to their own modules.
local function gateFits(gate, self)
   if torch.type(gate) ~= 'nn.Sequential' or type(gate.modules) ~= 'table' then return end
   local para = gate.modules[#gate.modules - 2]
   if torch.type(para) ~= 'nn.ParallelTable' then return end
   local H, D = self.outputSize, self.inputSize
   local want = {{'nn.Linear', {H, D}, 'outputSize x inputSize'},
                 {'nn.LinearNoBias', {H, H}, 'outputSize x outputSize'},
                 {'nn.CMul', {H}, 'outputSize'}}
   for i, w in ipairs(want) do
      local m = para.modules[i]
      if torch.type(m) == 'nn.Sequential' and type(m.modules) == 'table' then m = m.modules[#m.modules] end
      if torch.type(m) == w[1] then
         local expected, held
         if w[1] == 'nn.CMul' then      -- a vector or 1 x outputSize: its element count counts
            if not (torch.isTensor(m.weight) and m.weight:nElement() == H) then
               expected, held = string.format('a tensor of %d elements (outputSize)', H), schema.holds(m.weight)
            end
         else
            expected, held = schema.sizeIs(m.weight, w[2], w[3])
         end
         if expected then
            return string.format('a gate whose %s weight is %s', w[1], expected),
                   string.format('one whose %s weight is %s', w[1], held)
         end
      end
   end
end

schema.declare(LSTM, {
   {'inputSize', 'posint'},
   {'outputSize', 'posint'},
   {'cell2gate', 'boolean?'},
   {'p', 'number?', min = 0, max = 1},
   {'mono', 'boolean?'},
   {'inputGate', 'module?', check = gateFits},
   {'forgetGate', 'module?', check = gateFits},
   {'hiddenLayer', 'module?', check = gateFits},
   {'outputGate', 'module?', check = gateFits},
   {'cellLayer', 'module?'},
   {'cells', 'table?'}, {'gradCells', 'table?'},
   {'cell', 'tensor|table?'}, {'userPrevCell', 'tensor?'},
   {'zeroTensor', 'tensor?'},
   {'fastpath', 'boolean?'},
})

function LSTM:__init(inputSize, outputSize, rho, cell2gate, p, mono)
   parent.__init(self, rho or 9999)
   self.p = p or 0
   self.mono = mono or false
   self.inputSize = inputSize
   self.outputSize = outputSize or inputSize
   self.cell2gate = (cell2gate == nil) and true or cell2gate
   self.recurrentModule = self:buildModel()
   self.modules[1] = self.recurrentModule
   self.sharedClones[1] = self.recurrentModule
   self.zeroTensor = torch.Tensor()
   self.cells = {}
   self.gradCells = {}
end

function LSTM:backCompatibility(version)
   parent.backCompatibility(self, version)
   self.cells = self.cells or {}
   self.gradCells = self.gradCells or {}
   self.zeroTensor = self.zeroTensor or nn.utils.newTensor(self._type or 'torch.DoubleTensor')
end

-- a gate: sigmoid(W x + U h(t-1) [+ V . c]) of the table {x, h(t-1), c}
function LSTM:buildGate()
   local gate = nn.Sequential()
   if not self.cell2gate then
      gate:add(nn.NarrowTable(1, 2))
   end
   local input2gate = nn.Sequential()
      :add(ext.lazyDropout(self.p, self.mono))
      :add(nn.Linear(self.inputSize, self.outputSize))
   local output2gate = nn.Sequential()
      :add(ext.lazyDropout(self.p, self.mono))
      :add(nn.LinearNoBias(self.outputSize, self.outputSize))
   local para = nn.ParallelTable()
   para:add(input2gate):add(output2gate)
   if self.cell2gate then
      para:add(nn.CMul(self.outputSize))
   end
   gate:add(para)
   gate:add(nn.CAddTable())
   gate:add(nn.Sigmoid())
   return gate
end

function LSTM:buildInputGate()
   self.inputGate = self:buildGate()
   return self.inputGate
end

function LSTM:buildForgetGate()
   self.forgetGate = self:buildGate()
   return self.forgetGate
end

function LSTM:buildHidden()
   local hidden = nn.Sequential()
   hidden:add(nn.NarrowTable(1, 2))
   local input2hidden = nn.Sequential()
      :add(ext.lazyDropout(self.p, self.mono))
      :add(nn.Linear(self.inputSize, self.outputSize))
   local output2hidden = nn.Sequential()
      :add(ext.lazyDropout(self.p, self.mono))
      :add(nn.LinearNoBias(self.outputSize, self.outputSize))
   local para = nn.ParallelTable()
   para:add(input2hidden):add(output2hidden)
   hidden:add(para)
   hidden:add(nn.CAddTable())
   hidden:add(nn.Tanh())
   self.hiddenLayer = hidden
   return hidden
end

-- c(t) = forgetGate . c(t-1) + inputGate . hidden
function LSTM:buildCell()
   self.inputGate = self:buildInputGate()
   self.forgetGate = self:buildForgetGate()
   self.hiddenLayer = self:buildHidden()
   local forget = nn.Sequential()
      :add(nn.ConcatTable():add(self.forgetGate):add(nn.SelectTable(3)))
      :add(nn.CMulTable())
   local input = nn.Sequential()
      :add(nn.ConcatTable():add(self.inputGate):add(self.hiddenLayer))
      :add(nn.CMulTable())
   local cell = nn.Sequential()
      :add(nn.ConcatTable():add(forget):add(input))
      :add(nn.CAddTable())
   self.cellLayer = cell
   return cell
end

function LSTM:buildOutputGate()
   self.outputGate = self:buildGate()
   return self.outputGate
end

-- {x, h(t-1), c(t-1)} -> {h(t), c(t)}
function LSTM:buildModel()
   self.cellLayer = self:buildCell()
   self.outputGate = self:buildOutputGate()
   local model = nn.Sequential()
   model:add(nn.ConcatTable():add(nn.NarrowTable(1, 2)):add(self.cellLayer))
   model:add(nn.FlattenTable())  -- {x, h(t-1), c(t)}
   local cellAct = nn.Sequential():add(nn.SelectTable(3)):add(nn.Tanh())
   local output = nn.Sequential()
      :add(nn.ConcatTable():add(self.outputGate):add(cellAct))
      :add(nn.CMulTable())
   model:add(nn.ConcatTable():add(output):add(nn.SelectTable(3)))
   return model
end

local function resolveStep(self, step)
   if step == nil then return self.step - 1 end
   if step < 0 then return self.step - step - 1 end
   return step
end

local function zeroState(self, input, size)
   if not torch.isTensor(self.zeroTensor) or (torch.isTensor(input) and torch.type(self.zeroTensor) ~= torch.type(input)) then
      self.zeroTensor = torch.isTensor(input) and nn.utils.newLike(input) or torch.Tensor()
   end
   if torch.isTensor(input) then
      if input:dim() == 2 then
         self.zeroTensor:resize(input:size(1), size):zero()
      else
         self.zeroTensor:resize(size):zero()
      end
   end
   return self.zeroTensor
end

function LSTM:getHiddenState(step, input)
   step = resolveStep(self, step)
   local prevOutput, prevCell
   if step == 0 then
      local zero = zeroState(self, input, self.outputSize)
      prevOutput = self.userPrevOutput or self.outputs[step] or zero
      prevCell = self.userPrevCell or self.cells[step] or zero
   else
      prevOutput = self.outputs[step]
      prevCell = self.cells[step]
   end
   return {prevOutput, prevCell}
end

function LSTM:setHiddenState(step, hiddenState)
   step = resolveStep(self, step)
   if type(hiddenState) ~= 'table' or #hiddenState ~= 2 then
      error('<' .. torch.type(self) .. '> setHiddenState expects {output, cell}', 2)
   end
   self.outputs[step] = hiddenState[1]
   self.cells[step] = hiddenState[2]
end

local function checkInput(self, input)
   if not torch.isTensor(input) then
      error(string.format('<%s> input must be a tensor (one time step), got %s', torch.type(self),
                          torch.type(input)), 3)
   end
   if (input:dim() ~= 1 and input:dim() ~= 2) or (self.inputSize and input:size(input:dim()) ~= self.inputSize) then
      error(string.format('<%s> input must be a vector of %s or a batch (N x %s), got a %s tensor',
                          torch.type(self), tostring(self.inputSize), tostring(self.inputSize),
                          table.concat(input:size():totable(), 'x')), 3)
   end
end

-- In evaluation an LSTM whose step module is the one buildModel makes (no
-- dropout) runs each step as one NumPy call (sparktorch7._rnn_ops.lstm_step)
-- with the weights of its gates; its sub-modules' outputs are then not filled.
-- LSTM.fastpath = false turns it off (FastLSTM has its own).
LSTM.fastpath = true

local fastState = setmetatable({}, {__mode = 'k'})

local function gateWeights(gate, cell2gate, tanh)
   if torch.type(gate) ~= 'nn.Sequential' then return nil end
   local n = #gate.modules
   local para = gate.modules[n - 2]
   if torch.type(para) ~= 'nn.ParallelTable' or torch.type(gate.modules[n - 1]) ~= 'nn.CAddTable'
         or torch.type(gate.modules[n]) ~= (tanh and 'nn.Tanh' or 'nn.Sigmoid') then
      return nil
   end
   local x2g, h2g = para.modules[1], para.modules[2]
   local lin = x2g and x2g.modules and x2g.modules[2]
   local linh = h2g and h2g.modules and h2g.modules[2]
   if torch.type(lin) ~= 'nn.Linear' or not lin.bias or torch.type(linh) ~= 'nn.LinearNoBias' then return nil end
   if torch.type(x2g.modules[1]) ~= 'nn.Dropout' or torch.type(h2g.modules[1]) ~= 'nn.Dropout' then return nil end
   local w = {lin.weight, lin.bias, linh.weight}
   if not tanh and cell2gate then
      if #para.modules ~= 3 or torch.type(para.modules[3]) ~= 'nn.CMul' then return nil end
      w[4] = para.modules[3].weight
   elseif #para.modules ~= 2 then
      return nil
   end
   return w
end

local function standardLSTM(self)
   local m = self.recurrentModule
   if torch.type(m) ~= 'nn.Sequential' or #m.modules ~= 3 then return nil end
   if not (m.modules[1].modules and m.modules[1].modules[2] == self.cellLayer) then return nil end
   local out = m.modules[3].modules and m.modules[3].modules[1]
   if not (out and out.modules and out.modules[1] and out.modules[1].modules[1] == self.outputGate) then return nil end
   local c2g = self.cell2gate
   local wi = gateWeights(self.inputGate, c2g)
   local wf = gateWeights(self.forgetGate, c2g)
   local wz = gateWeights(self.hiddenLayer, c2g, true)
   local wo = gateWeights(self.outputGate, c2g)
   if not (wi and wf and wz and wo) then return nil end
   return {wi, wf, wz, wo}
end

local function fastWeights(self, input)
   if not (self.fastpath and self.train == false and kernels.available) then return nil end
   if (self.p or 0) ~= 0 or torch.typename(self) ~= 'nn.LSTM' then return nil end
   local st = fastState[self]
   if not st or st.graph ~= self.recurrentModule then
      st = {graph = self.recurrentModule, weights = standardLSTM(self) or false}
      fastState[self] = st
   end
   local w = st.weights
   if not w then return nil end
   local W = w[1][1]
   if torch.type(W) ~= torch.type(input) or not (torch.type(W) == 'torch.FloatTensor'
         or torch.type(W) == 'torch.DoubleTensor') or W:size(2) ~= input:size(input:dim()) then
      return nil
   end
   return w, st
end

local function fastStep(self, input, w, st)
   local state = self:getHiddenState(self.step - 1, input)
   local prevH, prevC = state[1], state[2]
   local H = self.outputSize
   local n = input:dim() == 2 and input:size(1) * H or H
   for k, t in ipairs({prevH, prevC}) do
      if not torch.isTensor(t) or torch.type(t) ~= torch.type(input) or t:nElement() ~= n then
         error(string.format('<nn.LSTM> the previous %s must be a %s of %d values', k == 1 and 'output' or 'cell',
                             torch.type(input), n), 3)
      end
   end
   local function buf(name)
      local t = nn.utils.buffer(st, name, input)
      if input:dim() == 2 then t:resize(input:size(1), H) else t:resize(H) end
      return t
   end
   local h, c = buf('output'), buf('cell')
   local wi, wf, wz, wo = w[1], w[2], w[3], w[4]
   kernels.lstm_step(h, c, input, prevH:contiguous(), prevC:contiguous(),
                     wi[1], wi[2], wi[3], wf[1], wf[2], wf[3], wz[1], wz[2], wz[3], wo[1], wo[2], wo[3],
                     wi[4] or false, wf[4] or false, wo[4] or false)
   return h, c
end

function LSTM:updateOutput(input)
   checkInput(self, input)
   local w, st = fastWeights(self, input)
   if w then
      local output, cell = fastStep(self, input, w, st)
      return self:_stepDone(output, cell)
   end
   local state = self:getHiddenState(self.step - 1, input)
   local m = self:_stepModule()
   local out = self:rethrowErrors(m, 1, 'updateOutput', {input, state[1], state[2]})
   local output, cell = out[1], out[2]
   return self:_stepDone(output, cell)
end

function LSTM:clearState()
   if torch.isTensor(self.zeroTensor) then self.zeroTensor = nn.utils.newLike(self.zeroTensor) end
   self.userPrevOutput, self.userPrevCell = nil, nil
   return parent.clearState(self)
end

LSTM.type = parent.typeAfresh

LSTM._checkInput = checkInput
LSTM._zeroState = zeroState

-- backward: Element-Research rnn's BPTT (AbstractRecurrent), the state as {x, h, c}
parent.useHooks(LSTM, parent.hcStateHooks)

return LSTM
