-- nn.SpatialRadialMatching(maxh): nnx's vertical-only matching cost: input {a, b} (K x H x W,
-- b at least H + maxh - 1 rows) gives H x W x maxh, at (y, x, d) the squared distance between
-- a's feature vector at (y, x) and b's at (y + d - 1, x). nn.SpatialMatching with maxw = 1.
-- Backward: {dE/da, dE/db} as nn.SpatialMatching's; no parameters.
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

-- the two maps, checked
function SpatialRadialMatching:maps(input)
   if type(input) ~= 'table' or torch.typename(input) or not torch.isTensor(input[1]) or not torch.isTensor(input[2])
      or input[1]:dim() ~= 3 or input[2]:dim() ~= 3 or input[1]:size(1) ~= input[2]:size(1) then
      error('<nn.SpatialRadialMatching> input must be {a, b}, two K x H x W maps of as many planes', 3)
   end
   local a, b = input[1], input[2]
   if b:size(2) < a:size(2) + self.maxh - 1 or b:size(3) < a:size(3) then
      error(string.format('<nn.SpatialRadialMatching> the second map must be at least %dx%d (the first, %dx%d, '
                          .. 'plus maxh - 1 rows), got %dx%d', a:size(2) + self.maxh - 1, a:size(3), a:size(2),
                          a:size(3), b:size(2), b:size(3)), 3)
   end
   nn.utils.checkSameType('nn.SpatialRadialMatching', b, a)
   return a:contiguous(), b:contiguous()
end

function SpatialRadialMatching:updateOutput(input)
   local a, b = self:maps(input)
   local out = kernels.output(self, a, {a:size(2), a:size(3), self.maxh})
   kernels.spatial_matching(out:view(a:size(2), a:size(3), self.maxh, 1), a, b, false)
   return out
end

function SpatialRadialMatching:updateGradInput(input, gradOutput)
   local a, b = self:maps(input)
   return nn.SpatialMatching.matchingGrad(self, a, b, gradOutput, {a:size(2), a:size(3), self.maxh}, false)
end

return SpatialRadialMatching
