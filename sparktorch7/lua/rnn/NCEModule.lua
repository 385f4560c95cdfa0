-- nn.NCEModule(inputSize, outputSize, k, unigrams [, Z]): torch/rnn's output layer trained by
-- noise-contrastive estimation, an nn.Linear (weight outputSize x inputSize) that keeps the
-- unigram noise distribution (a torch.AliasMultinomial, torchx). Scoring runs it as torch/rnn
-- evaluates it: in evaluation with normalized = true, input {x, target} (or x alone) gives
-- softmax(x W' + b) over the whole vocabulary (log-softmax with logsoftmax = true). Otherwise
-- (training, or normalized unset) the forward is torch/rnn's NCE one: input {x, target} with
-- target a LongTensor of batch class indices; k noise classes are drawn from the unigrams
-- (torch.AliasMultinomial:batchdraw), shared by the batch (batchnoise, the default) or k per
-- row, and the output is {Pmt, Pms, Pnt, Pns}: exp(x.w + b) / Z of the targets (batch) and of
-- the samples (batch x k), and the unigram probabilities of both (Z, when <= 0, is set from
-- the first batch: mean(Pms) * outputSize). The backward is not implemented here.
local schema = require('nn.schema')
local NCEModule, parent = torch.class('nn.NCEModule', 'nn.Linear')

schema.declare(NCEModule, {
   {'k', 'posint?'},
   {'unigrams', 'tensor?', dim = 1},
   {'Z', 'tensor?'},
   {'batchnoise', 'boolean?'}, {'normalized', 'boolean?'}, {'logsoftmax', 'boolean?'},
   {'aliasmultinomial', 'any?'},
   {'linout', 'tensor?'}, {'addBuffer', 'tensor?'}, {'sampleidx', 'tensor?'}, {'_sampleidx', 'tensor?'},
   {'_weight', 'tensor?'}, {'_bias', 'tensor?'}, {'_pm', 'tensor?'}, {'sampleprob', 'tensor?'},
   {'testedtargets', 'boolean?'}, {'verbose', 'boolean?'},
})

NCEModule.dpnn_parameters = {'weight', 'bias', 'unigrams', 'Z'}

function NCEModule:__init(inputSize, outputSize, k, unigrams, Z)
   parent.__init(self, inputSize, outputSize)
   if type(k) ~= 'number' or k < 1 then
      error('<nn.NCEModule> expects k (the number of noise samples, >= 1) at argument 3, got ' .. tostring(k), 2)
   end
   if not torch.isTensor(unigrams) or unigrams:dim() ~= 1 or unigrams:nElement() ~= outputSize then
      error(string.format('<nn.NCEModule> expects the unigrams as a tensor of %d counts at argument 4, got %s',
                          outputSize, torch.type(unigrams)), 2)
   end
   self.k = k
   self.unigrams = unigrams
   self.Z = torch.Tensor{Z or -1}
   self.batchnoise = true
   require 'torchx'
   self.unigrams:div(self.unigrams:sum())
   self.aliasmultinomial = torch.AliasMultinomial(self.unigrams)
   self.output = {torch.Tensor(), torch.Tensor(), torch.Tensor(), torch.Tensor()}
   self.gradInput = {torch.Tensor(), torch.Tensor()}
end

-- as torch/rnn: weights uniform(-1/sqrt(inputSize), ...), biases -log(outputSize) (Z = 1)
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

-- the k noise classes, drawn as torch/rnn draws them (a LongTensor of the given sizes)
function NCEModule:noiseSample(sampleidx, batchsize, k)
   if not self.aliasmultinomial then
      require 'torchx'
      self.aliasmultinomial = torch.AliasMultinomial(self.unigrams)
   end
   sampleidx:resize(batchsize, k)
   self.aliasmultinomial:batchdraw(sampleidx)
   return sampleidx
end

-- the unigram probabilities of the classes in sampleidx, in sampleidx's shape
function NCEModule:noiseProb(sampleprob, sampleidx)
   local p = self.unigrams:index(1, sampleidx:contiguous():view(-1):long())
   sampleprob:resize(sampleidx:size()):copy(p)
   return sampleprob
end

function NCEModule:_trainOutput(input, target)
   local name = 'nn.NCEModule'
   if not torch.isTensor(target) or target:dim() ~= 1 or target:size(1) ~= input:size(1) then
      error(string.format('<%s> the training forward takes {x, target} with a 1D target of %d class indices, '
                          .. 'got %s', name, input:size(1), torch.isTensor(target) and
                          table.concat(target:size():totable(), 'x') or torch.type(target)), 3)
   end
   if target:min() < 1 or target:max() > self.weight:size(1) then
      error(string.format('<%s> target indices must be within 1..%d, got %d..%d', name, self.weight:size(1),
                          target:min(), target:max()), 3)
   end
   if not torch.isTensor(self.Z) or self.Z:nElement() < 1 then self.Z = torch.Tensor{-1} end
   local b, k = input:size(1), self.k
   local tgt = target:long()
   local out = {nn.utils.newLike(input), nn.utils.newLike(input), nn.utils.newLike(input), nn.utils.newLike(input)}
   local samples
   if self.batchnoise ~= false then
      samples = self:noiseSample(torch.LongTensor(), 1, k):view(k)
      self.sampleidx = torch.LongTensor(k + b)
      self.sampleidx:narrow(1, 1, k):copy(samples)
      self.sampleidx:narrow(1, k + 1, b):copy(tgt)
      local w, bias = self.weight:index(1, self.sampleidx), self.bias:index(1, self.sampleidx)
      local sw, tw = w:narrow(1, 1, k), w:narrow(1, k + 1, b)
      out[1]:resize(b):copy(torch.cmul(input, tw):sum(2):view(b)):add(bias:narrow(1, k + 1, b)):exp()
      out[2]:resize(b, k):copy(bias:narrow(1, 1, k):view(1, k):expand(b, k)):addmm(input, sw:t()):exp()
      if self.Z[1] <= 0 then self.Z[1] = out[2]:mean() * self.weight:size(1) end
      local prob = self:noiseProb(nn.utils.newLike(input), self.sampleidx)
      out[3]:resize(b):copy(prob:narrow(1, k + 1, b))
      out[4]:resize(b, k):copy(prob:narrow(1, 1, k):view(1, k):expand(b, k))
   else
      samples = self:noiseSample(torch.LongTensor(), b, k)
      self.sampleidx = torch.LongTensor(b, k + 1)
      self.sampleidx:select(2, 1):copy(tgt)
      self.sampleidx:narrow(2, 2, k):copy(samples)
      local flat = self.sampleidx:view(-1)
      local w = self.weight:index(1, flat):view(b, k + 1, self.weight:size(2))
      local pm = self.bias:index(1, flat):view(b, k + 1):clone()
      pm:add(torch.bmm(w, input:contiguous():view(b, self.weight:size(2), 1)):view(b, k + 1)):exp()
      if self.Z[1] <= 0 then self.Z[1] = pm:mean() * self.weight:size(1) end
      out[1]:resize(b):copy(pm:select(2, 1))
      out[2]:resize(b, k):copy(pm:narrow(2, 2, k))
      local prob = self:noiseProb(nn.utils.newLike(input), self.sampleidx)
      out[3]:resize(b):copy(prob:select(2, 1))
      out[4]:resize(b, k):copy(prob:narrow(2, 2, k))
   end
   out[1]:div(self.Z[1])
   out[2]:div(self.Z[1])
   self.output = out
   return out
end

function NCEModule:updateOutput(inputTable)
   local input = inputTable
   if type(inputTable) == 'table' and not torch.typename(inputTable) then input = inputTable[1] end
   local training = self.train ~= false or not self.normalized
   if not torch.isTensor(input) or input:dim() ~= 2 or input:size(2) ~= self.weight:size(2) then
      error(string.format('<nn.NCEModule> input must be {x, target} or x, with x batch x %d, got %s',
                          self.weight:size(2), torch.isTensor(input) and (input:dim() == 0 and 'an empty tensor'
                          or table.concat(input:size():totable(), 'x')) or torch.type(input)), 2)
   end
   nn.utils.checkSameType('nn.NCEModule', input, self.weight)
   if training then
      return self:_trainOutput(input, type(inputTable) == 'table' and inputTable[2] or nil)
   end
   self.linout = torch.isTensor(self.linout) and torch.type(self.linout) == torch.type(input) and self.linout
      or nn.utils.newLike(input)
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

function NCEModule:clearState()
   self.linout, self.addBuffer, self.sampleidx, self._sampleidx = nil, nil, nil, nil
   self._weight, self._bias, self._pm, self.sampleprob = nil, nil, nil, nil
   if torch.isTensor(self.output) then self.output = nn.utils.newLike(self.output) end
   return self
end

function NCEModule:__tostring__()
   return string.format('%s(%d -> %d)', torch.type(self), self.weight:size(2), self.weight:size(1))
end

return NCEModule
