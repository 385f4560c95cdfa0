-- inn.SpatialPyramidPooling({w1, h1}, {w2, h2}, ...): adaptive max pooling to
-- each grid size, each result flattened, all concatenated (per sample).
local schema = require('nn.schema')
local SpatialPyramidPooling, parent = torch.class('inn.SpatialPyramidPooling', 'nn.Concat')

-- pyr: the grid sizes {w, h}, one per branch; branch i pools to pyr[i]
-- (an nn.SpatialAdaptiveMaxPooling first in it)
local function pyramid(pyr, self)
   local n = 0
   for _ in pairs(pyr) do n = n + 1 end
   for i = 1, n do
      local v = pyr[i]
      local ok = type(v) == 'table' and not torch.typename(v)
      for k = 1, 2 do
         local x = ok and v[k]
         ok = ok and type(x) == 'number' and x >= 1 and x <= 2147483647 and x == math.floor(x)
      end
      if not ok then
         return 'a list of grid sizes {w, h} (integers >= 1)', string.format('%s at index %d', schema.holds(v), i)
      end
   end
   local modules = rawget(self, 'modules')
   if type(modules) ~= 'table' then return end
   if #modules ~= n then
      return string.format('a grid size per branch (%d branches)', #modules), string.format('%d grid sizes', n)
   end
   for i, branch in ipairs(modules) do
      local pool = type(branch.modules) == 'table' and branch.modules[1]
      if torch.type(pool) == 'nn.SpatialAdaptiveMaxPooling' and (pool.W ~= pyr[i][1] or pool.H ~= pyr[i][2]) then
         return string.format("the grid size %sx%s at index %d (its branch's nn.SpatialAdaptiveMaxPooling)",
                              tostring(pool.W), tostring(pool.H), i),
                string.format('%dx%d', pyr[i][1], pyr[i][2])
      end
   end
end

schema.declare(SpatialPyramidPooling, {
   {'pyr', 'table', check = pyramid},
})

function SpatialPyramidPooling:__init(...)
   parent.__init(self, 1)
   local pyr = {...}
   self.pyr = torch.type(pyr[1][1]) == 'table' and pyr[1] or pyr
   for _, v in ipairs(self.pyr) do
      parent.add(self, nn.Sequential()
         :add(nn.SpatialAdaptiveMaxPooling(v[1], v[2]))
         :add(nn.View(-1):setNumInputDims(3))
         :add(nn.Contiguous()))
   end
end

function SpatialPyramidPooling:updateOutput(input)
   if not torch.isTensor(input) or (input:dim() ~= 3 and input:dim() ~= 4) then
      error('<inn.SpatialPyramidPooling> input must be a 3D or 4D tensor, got '
            .. (torch.isTensor(input) and (input:dim() .. 'D') or torch.type(input)), 2)
   end
   self.dimension = input:dim() - 2
   return parent.updateOutput(self, input)
end

return SpatialPyramidPooling
