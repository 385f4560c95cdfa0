-- nn.FastLSTM(inputSize, outputSize, rho, eps, momentum, affine, p, mono): an
-- LSTM without peepholes whose four gates come from one nn.Linear (i2g, input
-- to gates) and one nn.LinearNoBias (o2g, previous output to gates), in the
-- order input, candidate, forget, output:
--   [i z f o] = [sigmoid tanh sigmoid sigmoid](i2g(x) + o2g(h(t-1))),
--   c(t) = i . z + f . c(t-1),  h(t) = tanh(c(t)) . o.
-- With FastLSTM.usenngraph or FastLSTM.bn (batch-normalised gates) the step
-- module is an nn.gModule.
local ext = require('rnn.extensions')
local unpack = unpack or table.unpack
local schema = require('nn.schema')
local kernels = require('nn.kernels')
local FastLSTM, parent = torch.class('nn.FastLSTM', 'nn.LSTM')

local gateSchema = require('rnn.gates')
local function gateLinears(m, cls, H, cols, colsName)
   return gateSchema.check(m, cls, 4, H, cols, colsName)
end

schema.declare(FastLSTM, {
   {'i2g', 'module?', check = function(m, self)
      return gateLinears(m, 'nn.Linear', self.outputSize, self.inputSize, 'inputSize')
   end},
   {'o2g', 'module?', check = function(m, self)
      return gateLinears(m, 'nn.LinearNoBias', self.outputSize, self.outputSize, 'outputSize')
   end},
   {'eps', 'number?'}, {'momentum', 'number?'}, {'affine', 'boolean?'},
   {'usenngraph', 'boolean?'}, {'bn', 'boolean?'},
})

FastLSTM.usenngraph = false
FastLSTM.bn = false

function FastLSTM:__init(inputSize, outputSize, rho, eps, momentum, affine, p, mono)
   self.eps = eps
   self.momentum = momentum
   self.affine = affine == nil and true or affine
   self.p = p or 0
   self.mono = mono or false
   parent.__init(self, inputSize, outputSize, rho, nil, p, mono)
end

local function fourLinears(self, cls, inSize)
   local drop = nn.ConcatTable()
   local lin = nn.ParallelTable()
   for _ = 1, 4 do
      drop:add(ext.lazyDropout(self.p, self.mono))
      lin:add(cls(inSize, self.outputSize))
   end
   return nn.Sequential():add(drop):add(lin):add(nn.JoinTable(2))
end

function FastLSTM:buildModel()
   if self.p ~= 0 then
      self.i2g = fourLinears(self, nn.Linear, self.inputSize)
      self.o2g = fourLinears(self, nn.LinearNoBias, self.outputSize)
   else
      self.i2g = nn.Linear(self.inputSize, 4 * self.outputSize)
      self.o2g = nn.LinearNoBias(self.outputSize, 4 * self.outputSize)
   end
   if self.usenngraph or self.bn then
      require('nngraph')
      return self:nngraphModel()
   end
   local H = self.outputSize
   local gates = nn.Sequential()
      :add(nn.NarrowTable(1, 2))
      :add(nn.ParallelTable():add(self.i2g):add(self.o2g))
      :add(nn.CAddTable())
      :add(nn.Reshape(4, H))
      :add(nn.SplitTable(1, 2))
      :add(nn.ParallelTable():add(nn.Sigmoid()):add(nn.Tanh()):add(nn.Sigmoid()):add(nn.Sigmoid()))
   local seq = nn.Sequential()
   seq:add(nn.ConcatTable():add(gates):add(nn.SelectTable(3)))
   seq:add(nn.FlattenTable())  -- {i, z, f, o, c(t-1)}
   local hidden = nn.Sequential():add(nn.NarrowTable(1, 2)):add(nn.CMulTable())
   local cell = nn.Sequential()
      :add(nn.ConcatTable():add(nn.SelectTable(3)):add(nn.SelectTable(5)))
      :add(nn.CMulTable())
   local nextCell = nn.Sequential()
      :add(nn.ConcatTable():add(hidden):add(cell))
      :add(nn.CAddTable())
   seq:add(nn.ConcatTable():add(nextCell):add(nn.SelectTable(4)))
   seq:add(nn.FlattenTable())  -- {c(t), o}
   local cellAct = nn.Sequential():add(nn.SelectTable(1)):add(nn.Tanh())
   local output = nn.Sequential()
      :add(nn.ConcatTable():add(cellAct):add(nn.SelectTable(2)))
      :add(nn.CMulTable())
   seq:add(nn.ConcatTable():add(output):add(nn.SelectTable(1)))
   return seq
end

function FastLSTM:nngraphModel()
   local x, prevH, prevC = nn.Identity()(), nn.Identity()(), nn.Identity()()
   local H = self.outputSize
   local i2h, h2h, bnC
   if self.bn then
      local bnWx = nn.BatchNormalization(4 * H, self.eps, self.momentum, self.affine)
      local bnWh = nn.BatchNormalization(4 * H, self.eps, self.momentum, self.affine)
      bnC = nn.BatchNormalization(H, self.eps, self.momentum, self.affine)
      if bnWx.weight then
         bnWx.weight:fill(0.1)
         bnWh.weight:fill(0.1)
         bnC.weight:fill(0.1)
      end
      i2h = bnWx(self.i2g(x))
      h2h = nn.Add(4 * H)(bnWh(self.o2g(prevH)))
   else
      i2h = self.i2g(x)
      h2h = self.o2g(prevH)
   end
   local sums = nn.CAddTable()({i2h, h2h})
   local reshaped = nn.Reshape(4, H)(sums)
   local n1, n2, n3, n4 = nn.SplitTable(2)(reshaped):split(4)
   local inGate = nn.Sigmoid()(n1)
   local inTransform = nn.Tanh()(n2)
   local forgetGate = nn.Sigmoid()(n3)
   local outGate = nn.Sigmoid()(n4)
   local nextC = nn.CAddTable()({
      nn.CMulTable()({forgetGate, prevC}),
      nn.CMulTable()({inGate, inTransform}),
   })
   local nextH
   if self.bn then
      nextH = nn.CMulTable()({outGate, nn.Tanh()(bnC(nextC))})
   else
      nextH = nn.CMulTable()({outGate, nn.Tanh()(nextC)})
   end
   return nn.gModule({x, prevH, prevC}, {nextH, nextC})
end

-- In evaluation a FastLSTM built by buildModel (no dropout, no nngraph, no
-- mask) runs its step as one NumPy call (sparktorch7._rnn_ops.fast_lstm_step)
-- instead of through the module graph: the same gates from the same i2g/o2g
-- weights; its sub-modules' outputs are then not filled. FastLSTM.fastpath =
-- false turns it off.
FastLSTM.fastpath = true

-- per module (weak keys, so nothing of this is written to files): whether its
-- step module is the standard graph, and the evaluation output/cell tensors
local fastState = setmetatable({}, {__mode = 'k'})

local function standardGraph(self)
   local m = self.recurrentModule
   if torch.type(m) ~= 'nn.Sequential' or #m.modules ~= 5 then return false end
   local concat = m.modules[1]
   local gates = concat and concat.modules and concat.modules[1]
   if torch.type(gates) ~= 'nn.Sequential' or #gates.modules ~= 6 then return false end
   local para = gates.modules[2]
   if torch.type(para) ~= 'nn.ParallelTable' or para.modules[1] ~= self.i2g or para.modules[2] ~= self.o2g then
      return false
   end
   local transfer = gates.modules[6]
   local want = {'nn.Sigmoid', 'nn.Tanh', 'nn.Sigmoid', 'nn.Sigmoid'}
   for k = 1, 4 do
      if torch.type(transfer.modules[k]) ~= want[k] then return false end
   end
   return torch.type(self.i2g) == 'nn.Linear' and torch.type(self.o2g) == 'nn.LinearNoBias'
      and self.i2g.bias ~= nil and self.o2g.bias == nil
end

local function canFast(self, input)
   if not (self.fastpath and self.train == false and kernels.available) then return false end
   if (self.p or 0) ~= 0 or self.usenngraph or self.bn then return false end
   local st = fastState[self]
   if not st or st.graph ~= self.recurrentModule then
      st = {graph = self.recurrentModule, standard = standardGraph(self)}
      fastState[self] = st
   end
   if not st.standard then return false end
   local W = self.i2g.weight
   return torch.type(W) == torch.type(input) and (torch.type(W) == 'torch.FloatTensor'
      or torch.type(W) == 'torch.DoubleTensor') and W:dim() == 2 and W:size(2) == input:size(input:dim())
end

function FastLSTM:updateOutput(input)
   nn.LSTM._checkInput(self, input)
   if not canFast(self, input) then
      return parent.updateOutput(self, input)
   end
   local state = self:getHiddenState(self.step - 1, input)
   local prevH, prevC = state[1], state[2]
   local H = self.outputSize
   local sizes = input:dim() == 2 and {input:size(1), H} or {H}
   for k, t in ipairs({prevH, prevC}) do
      if not torch.isTensor(t) or torch.type(t) ~= torch.type(input) or t:nElement() ~= sizes[1] * (sizes[2] or 1) then
         error(string.format('<nn.FastLSTM> the previous %s must be a %s of %s values', k == 1 and 'output' or 'cell',
                             torch.type(input), table.concat(sizes, 'x')), 2)
      end
   end
   -- evaluation reuses one output and one cell tensor, as the step module does
   local st = fastState[self]
   local h, c = nn.utils.buffer(st, 'output', input), nn.utils.buffer(st, 'cell', input)
   if h ~= prevH then h:resize(unpack(sizes)) end
   if c ~= prevC then c:resize(unpack(sizes)) end
   kernels.fast_lstm_step(h, c, input, prevH:contiguous(), prevC:contiguous(),
                          self.i2g.weight, self.i2g.bias, self.o2g.weight)
   return self:_stepDone(h, c)
end

local function notForFast(name)
   return function(self)
      error('<nn.FastLSTM> ' .. name .. ' is not implemented (FastLSTM computes its gates together)', 2)
   end
end

FastLSTM.buildGate = notForFast('buildGate')
FastLSTM.buildInputGate = notForFast('buildInputGate')
FastLSTM.buildForgetGate = notForFast('buildForgetGate')
FastLSTM.buildHidden = notForFast('buildHidden')
FastLSTM.buildCell = notForFast('buildCell')
FastLSTM.buildOutputGate = notForFast('buildOutputGate')

return FastLSTM
