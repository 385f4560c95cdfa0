-- nn.GRU(inputSize, outputSize, rho, p, mono): rnn's gated recurrent unit,
-- one step per forward; i2g (nn.Linear) and o2g (nn.LinearNoBias) give the
-- reset and update gates:
--   [r z] = sigmoid(i2g(x) + o2g(h(t-1))),
--   hc = tanh(W x + U (r . h(t-1))),  h(t) = (1 - z) . hc + z . h(t-1).
-- recurrentModule maps {x, h(t-1)} to h(t); the first step starts from zeros.
local ext = require('rnn.extensions')
local schema = require('nn.schema')
local GRU, parent = torch.class('nn.GRU', 'nn.AbstractRecurrent')

local gateSchema = require('rnn.gates')
local function gateLinears(m, cls, H, cols, colsName)
   return gateSchema.check(m, cls, 2, H, cols, colsName)
end

schema.declare(GRU, {
   {'inputSize', 'posint'},
   {'outputSize', 'posint'},
   {'p', 'number?', min = 0, max = 1},
   {'mono', 'boolean?'},
   {'i2g', 'module?', check = function(m, self)
      return gateLinears(m, 'nn.Linear', self.outputSize, self.inputSize, 'inputSize')
   end},
   {'o2g', 'module?', check = function(m, self)
      return gateLinears(m, 'nn.LinearNoBias', self.outputSize, self.outputSize, 'outputSize')
   end},
   {'cells', 'table?'}, {'gradCells', 'table?'},
   {'zeroTensor', 'tensor?'},
})

function GRU:__init(inputSize, outputSize, rho, p, mono)
   parent.__init(self, rho or 9999)
   self.p = p or 0
   self.mono = mono or false
   self.inputSize = inputSize
   self.outputSize = outputSize
   self.recurrentModule = self:buildModel()
   self.modules[1] = self.recurrentModule
   self.sharedClones[1] = self.recurrentModule
   self.zeroTensor = torch.Tensor()
   self.cells = {}
   self.gradCells = {}
end

function GRU:backCompatibility(version)
   parent.backCompatibility(self, version)
   self.zeroTensor = self.zeroTensor or nn.utils.newTensor(self._type or 'torch.DoubleTensor')
end

local function twoLinears(self, cls, inSize)
   local drop = nn.ConcatTable()
   local lin = nn.ParallelTable()
   for _ = 1, 2 do
      drop:add(ext.lazyDropout(self.p, self.mono))
      lin:add(cls(inSize, self.outputSize))
   end
   return nn.Sequential():add(drop):add(lin):add(nn.JoinTable(2))
end

function GRU:buildModel()
   if self.p ~= 0 then
      self.i2g = twoLinears(self, nn.Linear, self.inputSize)
      self.o2g = twoLinears(self, nn.LinearNoBias, self.outputSize)
   else
      self.i2g = nn.Linear(self.inputSize, 2 * self.outputSize)
      self.o2g = nn.LinearNoBias(self.outputSize, 2 * self.outputSize)
   end
   local gates = nn.Sequential()
      :add(nn.ParallelTable():add(self.i2g):add(self.o2g))
      :add(nn.CAddTable())
      :add(nn.Reshape(2, self.outputSize))
      :add(nn.SplitTable(1, 2))
      :add(nn.ParallelTable():add(nn.Sigmoid()):add(nn.Sigmoid()))
   local seq = nn.Sequential()
   seq:add(nn.ConcatTable():add(nn.Identity()):add(gates))
   seq:add(nn.FlattenTable())  -- {x, h(t-1), r, z}
   seq:add(nn.ConcatTable():add(nn.NarrowTable(1, 4)):add(nn.SelectTable(2)))
   seq:add(nn.FlattenTable())  -- {x, h(t-1), r, z, h(t-1)}
   local t1 = nn.Sequential():add(nn.SelectTable(1))
   local t2 = nn.Sequential():add(nn.NarrowTable(2, 2)):add(nn.CMulTable())
   if self.p ~= 0 then
      t1:add(ext.lazyDropout(self.p, self.mono))
      t2:add(ext.lazyDropout(self.p, self.mono))
   end
   t1:add(nn.Linear(self.inputSize, self.outputSize))
   t2:add(nn.LinearNoBias(self.outputSize, self.outputSize))
   local hidden = nn.Sequential()
      :add(nn.ConcatTable():add(t1):add(t2))
      :add(nn.CAddTable())
      :add(nn.Tanh())
   local z1 = nn.Sequential():add(nn.SelectTable(4)):add(nn.SAdd(-1, true))  -- 1 - z
   local z2 = nn.Sequential():add(nn.NarrowTable(4, 2)):add(nn.CMulTable())  -- z . h(t-1)
   local o1 = nn.Sequential():add(nn.ConcatTable():add(hidden):add(z1)):add(nn.CMulTable())
   local o2 = nn.Sequential():add(nn.ConcatTable():add(o1):add(z2)):add(nn.CAddTable())
   seq:add(o2)
   return seq
end

function GRU:getHiddenState(step, input)
   step = step == nil and (self.step - 1) or (step < 0 and (self.step - step - 1) or step)
   if step == 0 then
      local zero = nn.LSTM._zeroState(self, input, self.outputSize)
      return self.userPrevOutput or self.outputs[step] or zero
   end
   return self.outputs[step]
end

function GRU:setHiddenState(step, hiddenState)
   if not torch.isTensor(hiddenState) then
      error('<' .. torch.type(self) .. '> setHiddenState expects a tensor', 2)
   end
   self.outputs[step] = hiddenState
end

function GRU:updateOutput(input)
   nn.LSTM._checkInput(self, input)
   local prevOutput = self:getHiddenState(self.step - 1, input)
   local m = self:_stepModule()
   local output = self:rethrowErrors(m, 1, 'updateOutput', {input, prevOutput})
   return self:_stepDone(output)
end

function GRU:clearState()
   if torch.isTensor(self.zeroTensor) then self.zeroTensor = nn.utils.newLike(self.zeroTensor) end
   return parent.clearState(self)
end

GRU.type = parent.typeAfresh


-- backward: Element-Research rnn's BPTT (AbstractRecurrent), the state as {x, h}
parent.useHooks(GRU, parent.hStateHooks)

return GRU
