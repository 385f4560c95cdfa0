-- nn.CategoricalEntropy([scale = 1, minEntropy]): dpnn's (and torch/rnn's) entropy
-- regulariser for a batch x N matrix of categorical probabilities (a SoftMax's output). The
-- forward is the identity; the backward adds to gradOutput the gradient of -scale * H(p), p
-- the batch's mean distribution (column sums over their total) and H(p) = -sum p log(p +
-- 1e-6), divided by the batch size (sizeAverage), unless H(p) >= minEntropy. self.module
-- holds the entropy network as dpnn builds it.
local schema = require('nn.schema')
local CE, parent = torch.class('nn.CategoricalEntropy', 'nn.Module')

schema.declare(CE, {
   {'scale', 'number'}, {'minEntropy', 'number?'},
   {'module', 'module'}, {'_mul', 'module'},
   {'minusOne', 'tensor', nElement = 1},
   {'sizeAverage', 'boolean?'},
})

function CE:__init(scale, minEntropy)
   parent.__init(self)
   self.scale = scale or 1
   self.minEntropy = minEntropy
   self.module = nn.Sequential()
   self.module:add(nn.Sum(1))
   self._mul = nn.MulConstant(1)
   self.module:add(self._mul)
   local logp = nn.Sequential():add(nn.AddConstant(0.000001)):add(nn.Log())
   self.module:add(nn.ConcatTable():add(nn.Identity()):add(logp))
   self.module:add(nn.CMulTable())
   self.module:add(nn.Sum())
   self.module:add(nn.MulConstant(-1))
   self.modules = {self.module}
   self.minusOne = torch.Tensor{-self.scale}
   self.sizeAverage = true
end

local function check(input)
   if not torch.isTensor(input) or input:dim() ~= 2 then
      error('<nn.CategoricalEntropy> only works with batches (batch x categories), got '
            .. (torch.isTensor(input) and (input:dim() .. 'D') or torch.type(input)), 3)
   end
end

function CE:updateOutput(input)
   check(input)
   self.output = input
   return self.output
end

function CE:updateGradInput(input, gradOutput)
   check(input)
   self.gradInput = gradOutput:clone()
   self._mul.constant_scalar = 1 / input:sum()
   self.entropy = self.module:updateOutput(input)[1]
   if (not self.minEntropy) or self.entropy < self.minEntropy then
      local g = self.module:updateGradInput(input, self.minusOne:typeAs(input)):clone()
      if self.sizeAverage then g:div(input:size(1)) end
      self.gradInput:add(g)
   end
   return self.gradInput
end

return CE
