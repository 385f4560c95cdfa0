-- The nn package of sparktorch7: `require 'nn'`. Torch7's module classes for
-- inference, required in dependency order (a parent before its children).
require('torch')

nn = nn or {}
nn.utils = require('nn.utils')

local modules = {
   -- base classes and containers
   'Module', 'Container', 'Sequential', 'Concat', 'DepthConcat', 'ConcatTable',
   'Parallel', 'ParallelTable', 'MapTable', 'Bottle', 'DataParallelTable',
   -- parameterised layers
   'Linear', 'Bilinear', 'LookupTable', 'Add', 'Mul', 'CMul', 'CAdd',
   'BatchNormalization', 'PReLU',
   -- shapes
   'Identity', 'Copy', 'Contiguous', 'View', 'Reshape', 'Transpose', 'Narrow',
   'Select', 'Squeeze', 'Unsqueeze', 'Replicate', 'Padding', 'Index',
   -- reductions and products
   'Sum', 'Mean', 'Max', 'Min', 'MM', 'MV', 'DotProduct', 'CosineDistance',
   'PairwiseDistance', 'Normalize',
   -- tables
   'JoinTable', 'SplitTable', 'SelectTable', 'NarrowTable', 'FlattenTable',
   'CAddTable', 'CSubTable', 'CMulTable', 'CDivTable', 'CMaxTable', 'CMinTable',
   -- elementwise
   'Threshold', 'ReLU', 'HardTanh', 'ReLU6', 'Clamp', 'LeakyReLU', 'RReLU', 'ELU',
   'Tanh', 'Sigmoid', 'LogSigmoid', 'SoftPlus', 'SoftSign', 'SoftShrink',
   'HardShrink', 'TanhShrink', 'Abs', 'Exp', 'Log', 'Sqrt', 'Square', 'Power',
   'AddConstant', 'MulConstant', 'GradientReversal',
   'SoftMax', 'LogSoftMax', 'SoftMin',
   'Dropout', 'SpatialDropout', 'VolumetricDropout',
}
for _, name in ipairs(modules) do
   require('nn.' .. name)
end

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
