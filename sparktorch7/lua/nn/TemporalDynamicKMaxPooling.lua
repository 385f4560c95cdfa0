local schema = require('nn.schema')
local TemporalDynamicKMaxPooling, parent = torch.class('nn.TemporalDynamicKMaxPooling', 'nn.Module')

schema.declare(TemporalDynamicKMaxPooling, {
   {'minK', 'posint'}, {'factor', 'number?', min = 0},
   {'indices', 'tensor?'},
})
local ops = require 'nn.spatial_ops'

-- Dynamic k-max pooling (Kalchbrenner et al., 2014): the k largest frames of each
-- feature, kept in their order in the sequence, k = max(minK, ceil(factor * length));
-- input length x features, or batch x length x features.
function TemporalDynamicKMaxPooling:__init(minK, factor)
   parent.__init(self)
   self.minK = minK
   self.factor = factor or 0
end

function TemporalDynamicKMaxPooling:updateOutput(input)
   local dim = ops.checkDim(self, input, 2, 3, '2D or 3D (batch mode)')
   local seqDim = dim - 1
   local len = input:size(seqDim)
   local k = math.max(self.minK, math.ceil((self.factor or 0) * len))
   if len < k then
      ops.fail(self, 'input sequence length (%d) too small for desired k value (%d)', len, k)
   end
   local _, order = input:sort(seqDim, true)
   self.indices = order:narrow(seqDim, 1, k):sort(seqDim)
   self.output = input:gather(seqDim, self.indices)
   return self.output
end

-- each gradOutput value back to the frame its output was taken from
function TemporalDynamicKMaxPooling:updateGradInput(input, gradOutput)
   if not torch.isTensor(self.indices) then
      ops.fail(self, 'must call updateOutput/forward first')
   end
   ops.checkGradOutput(self, input, gradOutput)
   local seqDim = input:dim() - 1
   self.gradInput = torch.isTensor(self.gradInput) and torch.type(self.gradInput) == torch.type(input)
                    and self.gradInput or input.new()
   self.gradInput:resizeAs(input):zero()
   self.gradInput:scatter(seqDim, self.indices, gradOutput)
   return self.gradInput
end

function TemporalDynamicKMaxPooling:clearState()
   nn.utils.clear(self, 'indices')
   return parent.clearState(self)
end
