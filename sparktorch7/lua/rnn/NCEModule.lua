-- nn.NCEModule(inputSize, outputSize, k, unigrams [, Z]): torch/rnn's output layer trained by
-- noise-contrastive estimation, an nn.Linear (weight outputSize x inputSize) that keeps the
-- unigram noise distribution (a torch.AliasMultinomial, torchx). Scoring runs it as torch/rnn
-- evaluates it: in evaluation with normalized = true, input {x, target} (or x alone) gives
-- softmax(x W' + b) over the whole vocabulary (log-softmax with logsoftmax = true). The
-- training forward (noise samples for NCECriterion) is not implemented here.
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

function NCEModule:updateOutput(inputTable)
   local input = inputTable
   if type(inputTable) == 'table' and not torch.typename(inputTable) then input = inputTable[1] end
   if self.train ~= false or not self.normalized then
      error('<nn.NCEModule> only the normalized evaluation is implemented in sparktorch7 (the training forward '
            .. 'draws noise samples for NCECriterion): call evaluate() and set normalized = true (and '
            .. 'logsoftmax = true for log-probabilities), as torch/rnn evaluates it', 2)
   end
   if not torch.isTensor(input) or input:dim() ~= 2 or input:size(2) ~= self.weight:size(2) then
      error(string.format('<nn.NCEModule> input must be {x, target} or x, with x batch x %d, got %s',
                          self.weight:size(2), torch.isTensor(input) and (input:dim() == 0 and 'an empty tensor'
                          or table.concat(input:size():totable(), 'x')) or torch.type(input)), 2)
   end
   nn.utils.checkSameType('nn.NCEModule', input, self.weight)
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
