local schema = require('nn.schema')
local SpatialCrossMapLRN, parent =
   torch.class('cudnn.SpatialCrossMapLRN', 'nn.SpatialCrossMapLRN')

schema.declare(SpatialCrossMapLRN, {
   {'k', 'number?'},
   {'K', 'number?'},
   {'size', 'posint', check = function(_, m)
      if rawget(m, 'k') == nil and rawget(m, 'K') == nil then
         return 'a k (or, in older cudnn files, K) number beside it', 'neither k nor K'
      end
   end},
})

function SpatialCrossMapLRN:__init(size, alpha, beta, k)
   parent.__init(self, size or 5, alpha, beta, k or 1.0)
end

-- cudnn sums channels c - floor((size-1)/2) .. c + floor(size/2) (the same window as
-- nn for odd sizes); some old files call k `K`.
function SpatialCrossMapLRN:_window()
   return math.floor((self.size - 1) / 2), math.floor(self.size / 2)
end

function SpatialCrossMapLRN:updateOutput(input)
   if self.K then
      self.k, self.K = self.K, nil
   end
   return parent.updateOutput(self, input)
end

function SpatialCrossMapLRN:clearDesc() return self end
