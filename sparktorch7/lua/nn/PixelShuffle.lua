local schema = require('nn.schema')
local PixelShuffle, parent = torch.class('nn.PixelShuffle', 'nn.Module')

schema.declare(PixelShuffle, {
   {'upscaleFactor', 'posint'},
   {'upscaleFactorSquared', 'posint', check = 'upscaleFactorSquared == upscaleFactor * upscaleFactor'},
})
local ops = require 'nn.spatial_ops'
local kernels = require 'nn.kernels'

-- Sub-pixel rearrangement: (C*r*r, H, W) -> (C, H*r, W*r), batched or not.
function PixelShuffle:__init(upscaleFactor)
   parent.__init(self)
   self.upscaleFactor = upscaleFactor
   self.upscaleFactorSquared = upscaleFactor * upscaleFactor
end

function PixelShuffle:updateOutput(input)
   local dim = ops.checkDim(self, input, 3, 4, '3D or 4D (batch mode)')
   local r = self.upscaleFactor
   local c = input:size(dim - 2)
   if c % self.upscaleFactorSquared ~= 0 then
      ops.fail(self, 'input has %d planes, not a multiple of upscaleFactor^2 = %d', c,
               self.upscaleFactorSquared)
   end
   local out = kernels.output(self, input, ops.withTail(input, dim - 3,
                              {c / self.upscaleFactorSquared, input:size(dim - 1) * r,
                               input:size(dim) * r}))
   kernels.pixel_shuffle(out, input, r)
   return out
end
