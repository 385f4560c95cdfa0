local schema = require('nn.schema')
local FeatureLPPooling, parent = torch.class('nn.FeatureLPPooling', 'nn.Module')

schema.declare(FeatureLPPooling, {
   {'width', 'int', min = 2, max = 16}, {'stride', 'int', min = 1, max = 4},
   {'power', 'number'}, {'batch_mode', 'boolean?'},
})
local ops = require 'nn.spatial_ops'
local kernels = require 'nn.kernels'

-- LP pooling across features: out[f] = (sum_{i=1..width} x[(f-1)*stride + i]^power)^(1/power)
-- along the feature dimension, the first (feature [x opt1 [x opt2]]) or, in batch mode,
-- the second (batch x feature [x opt1 [x opt2]]); (features - width) / stride + 1 outputs.
function FeatureLPPooling:__init(width, stride, power, batch_mode)
   parent.__init(self)
   if type(width) ~= 'number' or width < 2 or width > 16 then
      error('<nn.FeatureLPPooling> width must be within 2 to 16, got ' .. tostring(width), 2)
   end
   if type(stride) ~= 'number' or stride < 1 or stride > 4 then
      error('<nn.FeatureLPPooling> stride must be within 1 to 4, got ' .. tostring(stride), 2)
   end
   self.width = width
   self.stride = stride
   self.power = power
   self.batch_mode = batch_mode and true or false
end

local function check(self, input)
   local lo, hi = 1, 3
   if self.batch_mode then lo, hi = 2, 4 end
   local dim = ops.checkDim(self, input, lo, hi, self.batch_mode and '2D to 4D (batch mode)' or '1D to 3D')
   local fdim = self.batch_mode and 2 or 1
   if input:size(fdim) < self.width then
      ops.fail(self, 'input: feature dimension (%d) must be >= width (%d)', input:size(fdim), self.width)
   end
   return dim, fdim
end

function FeatureLPPooling:updateOutput(input)
   local _, fdim = check(self, input)
   local sizes = ops.sizes(input)
   sizes[fdim] = math.floor((input:size(fdim) - self.width) / self.stride) + 1
   local out = kernels.output(self, input, sizes)
   kernels.feature_lp_pool(out, input, self.power, self.width, self.stride, self.batch_mode)
   return out
end

function FeatureLPPooling:updateGradInput(input, gradOutput)
   check(self, input)
   ops.checkGradOutput(self, input, gradOutput)
   local gin = kernels.output(self, input, nil, 'gradInput')
   kernels.feature_lp_pool_grad(gin, gradOutput, input, self.output, self.power, self.width,
                                self.stride, self.batch_mode)
   return gin
end

function FeatureLPPooling:__tostring__()
   return string.format('%s(w%d s%d power %s batch %s)', torch.type(self), self.width, self.stride,
                        tostring(self.power), tostring(self.batch_mode))
end
