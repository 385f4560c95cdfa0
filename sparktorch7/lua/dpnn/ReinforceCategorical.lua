-- nn.ReinforceCategorical(stochastic): input N x K probabilities; in training
-- a one-hot sample per row, in evaluation the probabilities themselves.
local schema = require('nn.schema')
local kernels = require('nn.kernels')
local ReinforceCategorical, parent = torch.class('nn.ReinforceCategorical', 'nn.Reinforce')

schema.declare(ReinforceCategorical, {
   {'_index', 'tensor?'},
})

function ReinforceCategorical:updateOutput(input)
   if not torch.isTensor(input) then
      error('<nn.ReinforceCategorical> input must be a tensor of probabilities, got ' .. torch.type(input), 2)
   end
   local out = self:_outputLike(input)
   if self:_sampling() then
      self._index = torch.LongTensor()
      self._index = torch.multinomial(input, 1)
      out:zero()
      out:scatter(2, self._index, 1)
   else
      out:copy(input)
   end
   return out
end

-- d ln f(x; p) / dp_i = x_i / p_i (x one-hot), times the reward, negated; p offset by 1e-8
-- as dpnn does against a division by zero
function ReinforceCategorical:updateGradInput(input, gradOutput)
   local g = kernels.output(self, input, nil, 'gradInput')
   local p = input.new():resizeAs(input):copy(input):add(0.00000001)
   return g:copy(self.output):cdiv(p):cmul(self:rewardAs(input)):mul(-1)
end

function ReinforceCategorical:type(typename, cache)
   if typename then self._index = nil end
   return parent.type(self, typename, cache)
end

return ReinforceCategorical
