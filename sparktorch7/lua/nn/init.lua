-- The nn package of sparktorch7: `require 'nn'`. Torch7's module classes for
-- inference, required in dependency order (a parent before its children).
require('torch')

nn = nn or {}
nn.utils = require('nn.utils')

-- base classes and containers
require('nn.Module')
require('nn.Container')
require('nn.Sequential')
require('nn.Concat')
require('nn.DepthConcat')
require('nn.ConcatTable')
require('nn.Parallel')
require('nn.ParallelTable')
require('nn.MapTable')
require('nn.Bottle')
require('nn.DataParallelTable')

-- parameterised layers
require('nn.Linear')
require('nn.Bilinear')
require('nn.LookupTable')
require('nn.Add')
require('nn.Mul')
require('nn.CMul')
require('nn.CAdd')
require('nn.BatchNormalization')
require('nn.PReLU')

-- shapes
require('nn.Identity')
require('nn.Copy')
require('nn.Contiguous')
require('nn.View')
require('nn.Reshape')
require('nn.Transpose')
require('nn.Narrow')
require('nn.Select')
require('nn.Squeeze')
require('nn.Unsqueeze')
require('nn.Replicate')
require('nn.Padding')
require('nn.Index')

-- reductions and products
require('nn.Sum')
require('nn.Mean')
require('nn.Max')
require('nn.Min')
require('nn.MM')
require('nn.MV')
require('nn.DotProduct')
require('nn.CosineDistance')
require('nn.PairwiseDistance')
require('nn.Normalize')

-- tables
require('nn.JoinTable')
require('nn.SplitTable')
require('nn.SelectTable')
require('nn.NarrowTable')
require('nn.FlattenTable')
require('nn.CAddTable')
require('nn.CSubTable')
require('nn.CMulTable')
require('nn.CDivTable')
require('nn.CMaxTable')
require('nn.CMinTable')

-- elementwise (Threshold before ReLU, HardTanh before ReLU6 and Clamp)
require('nn.Threshold')
require('nn.ReLU')
require('nn.HardTanh')
require('nn.ReLU6')
require('nn.Clamp')
require('nn.LeakyReLU')
require('nn.RReLU')
require('nn.ELU')
require('nn.Tanh')
require('nn.Sigmoid')
require('nn.LogSigmoid')
require('nn.SoftPlus')
require('nn.SoftSign')
require('nn.SoftShrink')
require('nn.HardShrink')
require('nn.TanhShrink')
require('nn.Abs')
require('nn.Exp')
require('nn.Log')
require('nn.Sqrt')
require('nn.Square')
require('nn.Power')
require('nn.AddConstant')
require('nn.MulConstant')
require('nn.GradientReversal')
require('nn.SoftMax')
require('nn.LogSoftMax')
require('nn.SoftMin')
require('nn.Dropout')
require('nn.SpatialDropout')
require('nn.VolumetricDropout')

-- The spatial, temporal and volumetric modules: nn/spatial_manifest.lua lists
-- them (it returns a list of class names); without it, nn has none of them.
local ok, spatial = pcall(require, 'nn.spatial_manifest')
if ok and type(spatial) == 'table' then
   for _, name in ipairs(spatial) do
      require('nn.' .. name)
   end
elseif not ok and not tostring(spatial):find("module 'nn.spatial_manifest' not found", 1, true) then
   error(spatial, 0)
end

return nn
