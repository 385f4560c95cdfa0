-- nn.FastLSTM(inputSize, outputSize, rho, eps, momentum, affine, p, mono): an
-- LSTM without peepholes whose four gates come from one nn.Linear (i2g, input
-- to gates) and one nn.LinearNoBias (o2g, previous output to gates), in the
-- order input, candidate, forget, output:
--   [i z f o] = [sigmoid tanh sigmoid sigmoid](i2g(x) + o2g(h(t-1))),
--   c(t) = i . z + f . c(t-1),  h(t) = tanh(c(t)) . o.
-- With FastLSTM.usenngraph or FastLSTM.bn (batch-normalised gates) the step
-- module is an nn.gModule.
local ext = require('rnn.extensions')
local FastLSTM, parent = torch.class('nn.FastLSTM', 'nn.LSTM')

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
