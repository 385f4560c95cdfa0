-- The dpnn package of sparktorch7: `require 'dpnn'`. Element-Research dpnn's
-- nn.Module extensions (dpnn/extensions.lua) and the dpnn module classes
-- models were saved with, required in dependency order. nn.Decorator,
-- nn.DontCast, nn.Inception, nn.NaN, nn.Collapse, nn.Constant, nn.Convert,
-- nn.PrintSize and nn.ZipTable, which dpnn once defined too, are in nn (required above).
require('nn')

dpnn = dpnn or {}
dpnn.version = 2

-- dpnn.require(name): require a package, with dpnn's hint when it is missing
function dpnn.require(packagename)
   if type(packagename) ~= 'string' then
      error('<dpnn.require> expects a package name (string), got ' .. torch.type(packagename), 2)
   end
   local ok, err = pcall(require, packagename)
   if not ok then
      error(string.format('<dpnn.require> package %s is missing: %s', packagename, tostring(err)), 2)
   end
end

require('dpnn.extensions')
require('dpnn.training')

-- decorators and containers
require('dpnn.Serial')

-- modules
require('dpnn.Dictionary')
require('dpnn.ReverseTable')
require('dpnn.SpatialUniformCrop')
require('dpnn.SpatialGlimpse')
require('dpnn.ArgMax')
require('dpnn.Clip')
require('dpnn.TotalDropout')
require('dpnn.SpatialRegionDropout')
require('dpnn.SpatialFeatNormalization')
require('dpnn.FireModule')
require('dpnn.SpatialBinaryConvolution')
require('dpnn.SimpleColorTransform')
require('dpnn.PCAColorTransform')

-- REINFORCE
require('dpnn.Reinforce')
require('dpnn.ReinforceNormal')
require('dpnn.ReinforceCategorical')
require('dpnn.ReinforceBernoulli')
require('dpnn.ReinforceGamma')
require('dpnn.VRClassReward')
require('dpnn.BinaryClassReward')
require('dpnn.CategoricalEntropy')

-- criterions
require('dpnn.BinaryLogisticRegression')
require('dpnn.SpatialBinaryLogisticRegression')
require('dpnn.NCECriterion')

return dpnn
