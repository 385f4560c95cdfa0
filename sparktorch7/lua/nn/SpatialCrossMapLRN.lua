local schema = require('nn.schema')
local SpatialCrossMapLRN, parent = torch.class('nn.SpatialCrossMapLRN', 'nn.Module')

schema.declare(SpatialCrossMapLRN, {
   {'size', 'posint'}, {'alpha', 'number'}, {'beta', 'number'}, {'k', 'number'},
})
local ops = require 'nn.spatial_ops'
local kernels = require 'nn.kernels'

-- Local response normalization across channels (AlexNet):
-- y = x * (k + alpha/size * sum of x^2 over the neighbouring channels)^-beta.
function SpatialCrossMapLRN:__init(size, alpha, beta, k)
   parent.__init(self)
   self.size = size
   self.alpha = alpha or 0.0001
   self.beta = beta or 0.75
   self.k = k or 1
end

-- Channels [c - before, c + after] take part in channel c's sum. Torch7's CPU code
-- uses a symmetric window of floor((size-1)/2) on each side.
function SpatialCrossMapLRN:_window()
   local half = math.floor((self.size - 1) / 2)
   return half, half
end

function SpatialCrossMapLRN:updateOutput(input)
   local dim = ops.checkDim(self, input, 3, 4, '3D or 4D (batch mode)')
   local sizes = {}
   for i = 1, dim do sizes[i] = input:size(i) end
   local out = kernels.output(self, input, sizes)
   local before, after = self:_window()
   kernels.cross_map_lrn(out, input, self.size, self.alpha, self.beta, self.k, before, after)
   return out
end

function SpatialCrossMapLRN:updateGradInput(input, gradOutput)
   ops.checkGradOutput(self, input, gradOutput)
   local gin = kernels.output(self, input, nil, 'gradInput')
   local before, after = self:_window()
   kernels.cross_map_lrn_grad(gin, gradOutput, input, self.size, self.alpha, self.beta,
                              self.k, before, after)
   return gin
end

function SpatialCrossMapLRN:accGradParameters(input, gradOutput, scale)
end

function SpatialCrossMapLRN:__tostring__()
   return string.format('%s(%d, %g, %g, %g)', torch.type(self), self.size, self.alpha, self.beta,
                        self.k)
end
