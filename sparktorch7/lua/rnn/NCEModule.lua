-- nn.NCEModule(inputSize, outputSize, k, unigrams [, Z]): the output layer of dpnn / torch/rnn
-- trained by noise-contrastive estimation, an nn.Linear (weight outputSize x inputSize) that
-- keeps the unigram noise distribution (normalised in place) and a torch.AliasMultinomial
-- (torchx) drawing from it.
-- Training (and evaluation without `normalized`): input {x, target}, x batch x inputSize,
-- target a LongTensor of batch classes; the module draws k noise classes (self:noiseSample:
-- k for the whole batch with batchnoise = true, the default, else k for each row) and outputs
--   {Pmt, Pms, Pnt, Pns} = {exp(score of target) / Z   (batch),
--                           exp(score of noise) / Z    (batch x k),
--                           unigram prob of target     (batch),
--                           unigram prob of noise      (batch x k)}
-- for nn.NCECriterion. Z <= 0 is replaced, at the first forward, by the mean of the batch's
-- exp-scores times outputSize. sampleidx holds the classes scored (batchnoise: k noise
-- classes then the targets; else batch x (k+1), targets in column 1); the gradients reach
-- only those rows of gradWeight and gradBias.
-- Evaluation with normalized = true: {x, target} (or x alone) gives softmax(x W' + b) over
-- the whole vocabulary (log-softmax with logsoftmax = true).
local schema = require('nn.schema')
local NCEModule, parent = torch.class('nn.NCEModule', 'nn.Linear')
NCEModule.version = 7

schema.declare(NCEModule, {
   {'k', 'posint?'},
   {'unigrams', 'tensor?', dim = 1},
   {'Z', 'tensor?'},
   {'batchnoise', 'boolean?'}, {'normalized', 'boolean?'}, {'logsoftmax', 'boolean?'},
   {'aliasmultinomial', 'any?'},
   {'linout', 'tensor?'}, {'addBuffer', 'tensor?'}, {'sampleidx', 'tensor?'}, {'_sampleidx', 'tensor?'},
   {'_weight', 'tensor?'}, {'_bias', 'tensor?'}, {'_pm', 'tensor?'}, {'sampleprob', 'tensor?'},
   {'_noiseidx', 'tensor?'}, {'_noiseprob', 'tensor?'}, {'_metaidx', 'tensor?'},
   {'_gradWeight', 'tensor?'}, {'_gradBias', 'tensor?'}, {'_gradOutput', 'tensor?'}, {'_tgradOutput', 'tensor?'},
   {'testedtargets', 'boolean?'}, {'verbose', 'boolean?'},
})

-- sharedClone shares these; nn.Serial's medium mode empties the training buffers
NCEModule.dpnn_parameters = {'weight', 'bias', 'unigrams', 'Z'}
NCEModule.dpnn_mediumEmpty = {'output', 'gradInput', 'momGradParams', 'dpnn_input', 'sampleidx', 'sampleprob',
                              '_noiseidx', '_noiseprob', '_weight', '_gradWeight', '_gradOutput', '_tgradOutput'}

-- the buffers a forward/backward fills (type conversion and clearState drop them)
local BUFFERS = {'linout', 'addBuffer', 'sampleidx', '_sampleidx', '_weight', '_bias', '_pm', 'sampleprob',
                 '_noiseidx', '_noiseprob', '_metaidx', '_gradWeight', '_gradBias', '_gradOutput', '_tgradOutput'}

function NCEModule:__init(inputSize, outputSize, k, unigrams, Z)
   parent.__init(self, inputSize, outputSize)
   if type(k) ~= 'number' or k < 1 or k ~= math.floor(k) then
      error('<nn.NCEModule> expects k (the number of noise samples, an integer >= 1) at argument 3, got '
            .. tostring(k), 2)
   end
   if not torch.isTensor(unigrams) or unigrams:dim() ~= 1 or unigrams:nElement() ~= outputSize then
      error(string.format('<nn.NCEModule> expects the unigrams as a tensor of %d counts at argument 4, got %s',
                          outputSize, nn.utils.describe(unigrams)), 2)
   end
   self.k = k
   self.unigrams = unigrams
   self.Z = torch.Tensor{Z or -1}
   self.batchnoise = true
   self:fastNoise()
   self.output = {torch.Tensor(), torch.Tensor(), torch.Tensor(), torch.Tensor()}
   self.gradInput = {torch.Tensor(), torch.Tensor()}
end

-- as dpnn / torch/rnn: weights uniform(-1/sqrt(inputSize), ...), biases -log(outputSize) (Z = 1)
function NCEModule:reset(stdv)
   if stdv then
      self.weight:uniform(-stdv, stdv)
      self.bias:uniform(-stdv, stdv)
   else
      stdv = 1 / math.sqrt(self.weight:size(2))
      self.weight:uniform(-stdv, stdv)
      self.bias:fill(-math.log(self.bias:size(1)))
   end
   return self
end

-- (Re)builds the noise sampler from the unigrams, which become a distribution.
function NCEModule:fastNoise()
   require 'torchx'
   self.unigrams:div(self.unigrams:sum())
   self.aliasmultinomial = torch.AliasMultinomial(self.unigrams)
   self.aliasmultinomial.dpnn_parameters = {'J', 'q'}
   return self
end

-- Fills sampleidx, resized to batchsize x k, with classes drawn from the unigrams; returns it.
-- A caller may replace it (on the object) to hold the noise fixed.
function NCEModule:noiseSample(sampleidx, batchsize, k)
   if torch.type(sampleidx) == 'torch.LongTensor' then
      sampleidx:resize(batchsize, k)
      self.aliasmultinomial:batchdraw(sampleidx)
   else
      self._noiseidx = torch.type(self._noiseidx) == 'torch.LongTensor' and self._noiseidx or torch.LongTensor()
      self._noiseidx:resize(batchsize, k)
      self.aliasmultinomial:batchdraw(self._noiseidx)
      sampleidx:resize(batchsize, k):copy(self._noiseidx)
   end
   return sampleidx
end

-- Fills sampleprob (resized as sampleidx) with the unigram probabilities of sampleidx; returns it.
function NCEModule:noiseProb(sampleprob, sampleidx)
   self._noiseidx = torch.type(self._noiseidx) == 'torch.LongTensor' and self._noiseidx or torch.LongTensor()
   self._noiseidx:resize(sampleidx:size()):copy(sampleidx)
   self._noiseprob = torch.isTensor(self._noiseprob) and torch.type(self._noiseprob) == torch.type(self.unigrams)
      and self._noiseprob or nn.utils.newLike(self.unigrams)
   self._noiseprob:index(self.unigrams, 1, self._noiseidx:view(-1))
   sampleprob:resize(sampleidx:size()):copy(self._noiseprob)
   return sampleprob
end

local buffer = nn.utils.buffer

local function sizeOf(t)
   return t:dim() == 0 and 'empty' or table.concat(t:size():totable(), 'x')
end

-- {x, target} of a training forward or backward, checked; level blames the caller's caller
local function trainingInput(self, inputTable, level)
   local D, V = self.weight:size(2), self.weight:size(1)
   if type(inputTable) ~= 'table' or torch.typename(inputTable) then
      error(string.format('<nn.NCEModule> training expects the input {x, target} (x batch x %d, target a '
                          .. 'LongTensor of classes), got %s', D, nn.utils.describe(inputTable)), level)
   end
   local x, target = inputTable[1], inputTable[2]
   if not torch.isTensor(x) or x:dim() ~= 2 or x:size(2) ~= D then
      error(string.format('<nn.NCEModule> input[1] must be batch x %d, got %s', D, nn.utils.describe(x)), level)
   end
   if torch.type(x) ~= torch.type(self.weight) then
      error(string.format('<nn.NCEModule> input[1] is a %s but the module holds %s: convert the input, or the '
                          .. 'module with :float()/:double()', torch.type(x), torch.type(self.weight)), level)
   end
   if torch.type(target) ~= 'torch.LongTensor' or target:dim() ~= 1 or target:size(1) ~= x:size(1) then
      error(string.format('<nn.NCEModule> input[2] (the targets) must be a 1D torch.LongTensor of %d classes, got %s',
                          x:size(1), nn.utils.describe(target)), level)
   end
   local lo, hi = target:min(), target:max()
   if lo < 1 or hi > V then
      error(string.format('<nn.NCEModule> input[2] holds class %d, outside 1..%d', lo < 1 and lo or hi, V), level)
   end
   if not self.bias then
      error('<nn.NCEModule> the training forward needs the bias (the module has none)', level)
   end
   return x, target
end

-- the noise classes self:noiseSample drew (rows x k), checked: it may be replaced by a caller
local function drawNoise(self, rows, level)
   local V, k = self.weight:size(1), self.k
   local buf = torch.type(self._sampleidx) == 'torch.LongTensor' and self._sampleidx or torch.LongTensor()
   self._sampleidx = buf
   local noise = self:noiseSample(buf, rows, k)
   if not torch.isTensor(noise) or noise:nElement() ~= rows * k then
      error(string.format('<nn.NCEModule> noiseSample must return %d x %d classes, got %s', rows, k,
                          nn.utils.describe(noise)), level)
   end
   if noise:min() < 1 or noise:max() > V then
      error(string.format('<nn.NCEModule> noiseSample drew class %d, outside 1..%d',
                          noise:min() < 1 and noise:min() or noise:max(), V), level)
   end
   return noise:contiguous():view(rows, k)
end

-- Z <= 0: estimated from exp-scores (before division) of this batch
local function estimateZ(self, expscores)
   if self.Z[1] <= 0 then
      self.Z[1] = expscores:mean() * self.weight:size(1)
      if self.verbose then print('normalization constant Z approximated to ' .. self.Z[1]) end
   end
end

function NCEModule:updateOutput(inputTable)
   if self.train == false and self.normalized then
      return self:_normalized(inputTable)
   end
   local x, target = trainingInput(self, inputTable, 3)
   x = x:contiguous()
   local N, D, k = x:size(1), self.weight:size(2), self.k
   if type(self.output) ~= 'table' or torch.typename(self.output) or #self.output ~= 4 then
      self.output = {x.new(), x.new(), x.new(), x.new()}
   end
   local out = self.output
   local idx = buffer(self, 'sampleidx', target)
   local rows, scores = buffer(self, '_weight', x), buffer(self, '_bias', x)
   local sampleprob = buffer(self, 'sampleprob', x)
   if self.batchnoise then
      -- classes scored: k noise classes shared by the batch, then the N targets
      local noise = drawNoise(self, 1, 3)
      idx:resize(k + N)
      idx:narrow(1, 1, k):copy(noise:view(k))
      idx:narrow(1, k + 1, N):copy(target)
      rows:index(self.weight, 1, idx)
      scores:index(self.bias, 1, idx)
      -- (fresh storages: a forward without batchnoise left views of _pm here)
      local Pmt, Pms = out[1]:set():resize(N), out[2]:set():resize(N, k)
      local prod = buffer(self, '_pm', x):cmul(x, rows:narrow(1, k + 1, N))
      Pmt:sum(prod, 2)
      Pmt:resize(N):add(scores:narrow(1, k + 1, N)):exp()
      Pms:copy(scores:narrow(1, 1, k):view(1, k):expand(N, k))
      Pms:addmm(1, Pms, 1, x, rows:narrow(1, 1, k):t()):exp()
      estimateZ(self, Pms)
      Pmt:div(self.Z[1])
      Pms:div(self.Z[1])
      self:noiseProb(sampleprob, idx)
      out[3]:set(sampleprob:narrow(1, k + 1, N))
      out[4]:set(sampleprob:narrow(1, 1, k):view(1, k):expand(N, k))
   else
      -- classes scored: each row its target then k noise classes of its own
      local noise = drawNoise(self, N, 3)
      idx:resize(N, k + 1)
      idx:select(2, 1):copy(target)
      idx:narrow(2, 2, k):copy(noise)
      local flat = idx:view(N * (k + 1))
      rows:index(self.weight, 1, flat)
      rows:resize(N, k + 1, D)
      scores:index(self.bias, 1, flat)
      local pm = buffer(self, '_pm', x):resize(N, 1, k + 1)
      pm:copy(scores:view(N, 1, k + 1))
      pm:baddbmm(1, pm, 1, x:view(N, 1, D), rows:transpose(2, 3))
      pm:resize(N, k + 1):exp()
      estimateZ(self, pm)
      pm:div(self.Z[1])
      out[1]:set(pm:select(2, 1))
      out[2]:set(pm:narrow(2, 2, k))
      self:noiseProb(sampleprob, idx)
      out[3]:set(sampleprob:select(2, 1))
      out[4]:set(sampleprob:narrow(2, 2, k))
   end
   return self.output
end

-- evaluation with normalized = true: the full (log-)softmax of x W' + b
function NCEModule:_normalized(inputTable)
   local input = inputTable
   if type(inputTable) == 'table' and not torch.typename(inputTable) then input = inputTable[1] end
   if not torch.isTensor(input) or input:dim() ~= 2 or input:size(2) ~= self.weight:size(2) then
      error(string.format('<nn.NCEModule> input must be {x, target} or x, with x batch x %d, got %s',
                          self.weight:size(2), torch.isTensor(input) and sizeOf(input) or torch.type(input)), 3)
   end
   nn.utils.checkSameType('nn.NCEModule', input, self.weight)
   self.linout = buffer(self, 'linout', input)
   self.linout:resize(input:size(1), self.weight:size(1))
   self.linout:mm(input, self.weight:t())
   if self.bias then
      self.linout:add(self.bias:view(1, -1):expandAs(self.linout))
   end
   if not torch.isTensor(self.output) or torch.type(self.output) ~= torch.type(input) then
      self.output = nn.utils.newLike(input)
   end
   -- (log-)softmax along each row, shifted by its maximum
   local rowmax = self.linout:max(2)
   self.output:resizeAs(self.linout):copy(self.linout):add(-1, rowmax:expandAs(self.linout))
   if self.logsoftmax then
      local lse = torch.exp(self.output):sum(2):log()
      self.output:add(-1, lse:expandAs(self.output))
   else
      self.output:exp()
      self.output:cdiv(self.output:sum(2):expandAs(self.output))
   end
   return self.output
end

-- The gradient with respect to the scores of the last training forward (d exp(s)/Z / ds =
-- exp(s)/Z): batchnoise gives (targets N, noise N x k) in _tgradOutput, _gradOutput; else
-- one N x (k+1) tensor in _gradOutput, targets in column 1.
local function scoreGradients(self, inputTable, gradOutput, level)
   local x = trainingInput(self, inputTable, level + 1)
   local N, k = x:size(1), self.k
   local idx = self.sampleidx
   local expected = self.batchnoise and k + N or N * (k + 1)
   if type(self.output) ~= 'table' or not torch.isTensor(idx) or idx:nElement() ~= expected
      or not torch.isTensor(self.output[1]) or self.output[1]:nElement() ~= N then
      error('<nn.NCEModule> backward needs the training forward of the same input first', level)
   end
   if type(gradOutput) ~= 'table' or torch.typename(gradOutput) then
      error('<nn.NCEModule> gradOutput must be the table {dPmt, dPms, ...} (as nn.NCECriterion gives), got '
            .. nn.utils.describe(gradOutput), level)
   end
   local dPmt, dPms = gradOutput[1], gradOutput[2]
   if not torch.isTensor(dPmt) or dPmt:nElement() ~= N or not torch.isTensor(dPms) or dPms:dim() ~= 2
      or dPms:size(1) ~= N or dPms:size(2) ~= k then
      error(string.format('<nn.NCEModule> gradOutput[1] must hold %d values and gradOutput[2] be %d x %d, '
                          .. 'got %s and %s', N, N, k, nn.utils.describe(dPmt), nn.utils.describe(dPms)), level)
   end
   local Pmt, Pms = self.output[1], self.output[2]
   if self.batchnoise then
      local tg = buffer(self, '_tgradOutput', x):resize(N):copy(dPmt):cmul(Pmt)
      local sg = buffer(self, '_gradOutput', x):resize(N, k):copy(dPms):cmul(Pms)
      return x:contiguous(), tg, sg
   end
   local g = buffer(self, '_gradOutput', x):resize(N, k + 1)
   g:select(2, 1):copy(dPmt)
   g:narrow(2, 2, k):copy(dPms)
   g:cmul(self._pm)
   return x:contiguous(), g
end

function NCEModule:updateGradInput(inputTable, gradOutput)
   local x, g, sg = scoreGradients(self, inputTable, gradOutput, 3)
   local N, D, k = x:size(1), x:size(2), self.k
   if type(self.gradInput) ~= 'table' or torch.typename(self.gradInput) then self.gradInput = {} end
   local gx = buffer(self.gradInput, 1, x)
   if self.batchnoise then
      local tweight = self._weight:narrow(1, k + 1, N)
      gx:resize(N, D):cmul(tweight, g:view(N, 1):expand(N, D))
      gx:addmm(1, gx, 1, sg, self._weight:narrow(1, 1, k))
   else
      gx:resize(N, 1, D):bmm(g:view(N, 1, k + 1), self._weight)
      gx:resize(N, D)
   end
   -- the targets get no gradient
   local gt = buffer(self.gradInput, 2, x)
   gt:resize(N):zero()
   return self.gradInput
end

-- gradWeight/gradBias += scale * the gradient, on the rows of the classes scored only
function NCEModule:accGradParameters(inputTable, gradOutput, scale)
   scale = scale or 1
   local x, g, sg = scoreGradients(self, inputTable, gradOutput, 3)
   local N, D, k = x:size(1), x:size(2), self.k
   local gw = buffer(self, '_gradWeight', x)
   local gb = buffer(self, '_gradBias', x)
   local flat
   if self.batchnoise then
      -- rows 1..k: the noise classes, each summed over the batch; then one row per target
      gw:resize(k + N, D)
      gw:narrow(1, 1, k):mm(sg:t(), x)
      gw:narrow(1, k + 1, N):cmul(x, g:view(N, 1):expand(N, D))
      gb:resize(k + N)
      gb:narrow(1, 1, k):copy(sg:sum(1))
      gb:narrow(1, k + 1, N):copy(g)
      flat = self.sampleidx
   else
      gw:resize(N, k + 1, D):bmm(g:view(N, k + 1, 1), x:view(N, 1, D))
      gw:resize(N * (k + 1), D)
      gb:resize(N * (k + 1)):copy(g)
      flat = self.sampleidx:view(N * (k + 1))
   end
   gw:mul(scale)
   gb:mul(scale)
   self.gradWeight:indexAdd(1, flat, gw)
   self.gradBias:indexAdd(1, flat, gb)
end

-- the unigrams and the noise sampler keep their type; the buffers are dropped
function NCEModule:type(typename, tensorCache)
   if typename then
      for _, name in ipairs(BUFFERS) do self[name] = nil end
   end
   local unigrams, am = self.unigrams, self.aliasmultinomial
   self.unigrams, self.aliasmultinomial = nil, nil
   local ok, result = pcall(parent.type, self, typename, tensorCache)
   self.unigrams, self.aliasmultinomial = unigrams, am
   if not ok then error(result, 0) end
   return result
end

function NCEModule:clearState()
   for _, name in ipairs(BUFFERS) do self[name] = nil end
   for _, field in ipairs{'output', 'gradInput'} do
      local v = self[field]
      if torch.isTensor(v) then
         self[field] = nn.utils.newLike(v)
      elseif type(v) == 'table' then
         for i, t in ipairs(v) do v[i] = nn.utils.newLike(t) end
      end
   end
   return self
end

function NCEModule:__tostring__()
   return string.format('%s(%d -> %d)', torch.type(self), self.weight:size(2), self.weight:size(1))
end

return NCEModule
