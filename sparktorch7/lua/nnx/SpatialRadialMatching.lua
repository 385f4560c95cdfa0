-- nn.SpatialRadialMatching(maxh): nnx's vertical-only matching cost: input {a, b} (K x H x W,
-- b at least H + maxh - 1 rows) gives H x W x maxh, at (y, x, d) the squared distance between
-- a's feature vector at (y, x) and b's at (y + d - 1, x). nn.SpatialMatching with maxw = 1.
-- Forward only.
local schema = require('nn.schema')
local kernels = require('nn.kernels')
local SpatialRadialMatching, parent = torch.class('nn.SpatialRadialMatching', 'nn.Module')

schema.declare(SpatialRadialMatching, {{'maxh', 'posint'}})

function SpatialRadialMatching:__init(maxh)
   parent.__init(self)
   if type(maxh) ~= 'number' or maxh < 1 then
      error('<nn.SpatialRadialMatching> expects maxh (the number of rows to match, >= 1), got ' .. tostring(maxh), 2)
   end
   self.maxh = maxh
end

function SpatialRadialMatching:updateOutput(input)
   if type(input) ~= 'table' or torch.typename(input) or not torch.isTensor(input[1]) or not torch.isTensor(input[2])
      or input[1]:dim() ~= 3 or input[2]:dim() ~= 3 or input[1]:size(1) ~= input[2]:size(1) then
      error('<nn.SpatialRadialMatching> input must be {a, b}, two K x H x W maps of as many planes', 2)
   end
   local a, b = input[1], input[2]
   if b:size(2) < a:size(2) + self.maxh - 1 or b:size(3) < a:size(3) then
      error(string.format('<nn.SpatialRadialMatching> the second map must be at least %dx%d (the first, %dx%d, '
                          .. 'plus maxh - 1 rows), got %dx%d', a:size(2) + self.maxh - 1, a:size(3), a:size(2),
                          a:size(3), b:size(2), b:size(3)), 2)
   end
   nn.utils.checkSameType('nn.SpatialRadialMatching', b, a)
   local out = kernels.output(self, a, {a:size(2), a:size(3), self.maxh})
   kernels.spatial_matching(out:view(a:size(2), a:size(3), self.maxh, 1), a:contiguous(), b:contiguous(), false)
   return out
end

return SpatialRadialMatching
