-- nn.LayerNormalization(nOutput[, bias, eps, affine]): each sample's nOutput features
-- shifted to mean 0 and scaled to unit root mean square (Ba et al. 2016, section 3),
-- then, when affine (the default), times a gain (nn.CMul, 1 at first) plus a bias (nn.Add,
-- `bias` at first, 0 by default), for one sample (1D) or a batch of rows (2D). An
-- nn.Sequential of the modules doing it, as in Torch7:
--   y = sqrt(nOutput) (x - mean(x)) / sqrt(||x - mean(x)||_2^2 + eps)
-- One change from torch/nn: the means are replicated along dimension 2 (nn.Replicate(nOutput,
-- 2)); Torch7's nn.Replicate(nOutput, 1, 1) took a batch's vector of means for one sample and
-- subtracted them from the wrong rows (right for a single sample only). A file keeps the
-- modules it was saved with, and so what they compute.
local schema = require('nn.schema')
local LayerNormalization, parent = torch.class('nn.LayerNormalization', 'nn.Sequential')

schema.inherited(LayerNormalization, "a Sequential of the normalising modules: nn.Sequential's fields")

function LayerNormalization:__init(nOutput, bias, eps, affine)
   if type(nOutput) ~= 'number' or nOutput < 1 or nOutput ~= math.floor(nOutput) then
      error('<nn.LayerNormalization> usage: nn.LayerNormalization(nOutput[, bias, eps, affine]): nOutput must ' ..
            'be a positive integer, got ' .. tostring(nOutput), 2)
   end
   parent.__init(self)
   eps = eps or 1e-10
   if affine == nil then affine = true end
   bias = bias or 0
   self:add(nn.ConcatTable()
               :add(nn.Identity())
               :add(nn.Sequential()
                       :add(nn.Mean(1, 1))
                       :add(nn.Replicate(nOutput, 2))))
   self:add(nn.CSubTable())
   self:add(nn.Normalize(2, eps))
   self:add(nn.MulConstant(math.sqrt(nOutput)))
   if affine then
      local gain = nn.CMul(nOutput)
      gain.weight:fill(1)
      local shift = nn.Add(nOutput, false)
      shift.bias:fill(bias)
      self:add(gain)
      self:add(shift)
   end
end

return LayerNormalization
