-- nn.ReinforceGamma(scale, stochastic): a gamma distribution of shape input
-- (and scale, a field or the second input); evaluation outputs its mean
-- shape * scale. Sampling (training) needs randomkit's gamma sampler, which
-- sparktorch7 does not ship: it raises a clear error.
local schema = require('nn.schema')
local ReinforceGamma, parent = torch.class('nn.ReinforceGamma', 'nn.Reinforce')

schema.declare(ReinforceGamma, {
   {'scale', 'number|tensor?'},
})

function ReinforceGamma:__init(scale, stochastic)
   parent.__init(self, stochastic)
   self.scale = scale
   if not scale then
      self.gradInput = {torch.Tensor(), torch.Tensor()}
   end
end

function ReinforceGamma:updateOutput(input)
   local shape, scale = input, self.scale
   if type(input) == 'table' and not torch.isTensor(input) then
      shape, scale = input[1], input[2]
   end
   if not torch.isTensor(shape) or scale == nil then
      error('<nn.ReinforceGamma> expects a shape tensor and a scale (field or second input)', 2)
   end
   if type(scale) == 'number' then
      scale = nn.utils.newLike(shape):resizeAs(shape):fill(scale)
   elseif torch.isTensor(scale) and scale:dim() ~= shape:dim() then
      scale = scale:contiguous():view(1, unpack(scale:size():totable())):expandAs(shape)
   end
   local out = self:_outputLike(shape)
   if self:_sampling() then
      error('<nn.ReinforceGamma> sampling (training mode) needs randomkit, which sparktorch7 does not ship: '
            .. 'call evaluate() to get the mean', 2)
   end
   out:copy(shape):cmul(scale)
   return out
end

return ReinforceGamma
