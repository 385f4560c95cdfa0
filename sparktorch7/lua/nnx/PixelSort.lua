-- nn.PixelSort(r): nnx's inverse of nn.PixelShuffle: a C x H x W image (or B x C x H x W)
-- becomes C r^2 x H/r x W/r, output plane c r^2 + i r + j (0-based) holding the pixels
-- (y r + i, x r + j) of input plane c.
local schema = require('nn.schema')
local PixelSort, parent = torch.class('nn.PixelSort', 'nn.Module')

schema.declare(PixelSort, {
   {'downscaleFactor', 'posint'},
   {'downscaleFactorSquared', 'posint?'},
})

function PixelSort:__init(downscaleFactor)
   parent.__init(self)
   if type(downscaleFactor) ~= 'number' or downscaleFactor < 1 or downscaleFactor % 1 ~= 0 then
      error('<nn.PixelSort> expects the downscaling factor (an integer >= 1), got ' .. tostring(downscaleFactor), 2)
   end
   self.downscaleFactor = downscaleFactor
   self.downscaleFactorSquared = downscaleFactor * downscaleFactor
end

local function layout(self, input)
   if not torch.isTensor(input) or (input:dim() ~= 3 and input:dim() ~= 4) then
      error('<nn.PixelSort> input must be 3D (C x H x W) or 4D (batch), got '
            .. (torch.isTensor(input) and (input:dim() .. 'D') or torch.type(input)), 3)
   end
   local r = self.downscaleFactor
   local d = input:dim()
   local b = d == 4 and input:size(1) or 1
   local c, h, w = input:size(d - 2), input:size(d - 1), input:size(d)
   if h % r ~= 0 or w % r ~= 0 then
      error(string.format('<nn.PixelSort> input height and width (%dx%d) must be multiples of %d', h, w, r), 3)
   end
   return b, c, h, w, r, d
end

function PixelSort:updateOutput(input)
   local b, c, h, w, r, d = layout(self, input)
   local v = input:contiguous():view(b, c, h / r, r, w / r, r):permute(1, 2, 4, 6, 3, 5):contiguous()
   if d == 4 then
      self.output = v:view(b, c * r * r, h / r, w / r)
   else
      self.output = v:view(c * r * r, h / r, w / r)
   end
   return self.output
end

function PixelSort:updateGradInput(input, gradOutput)
   local b, c, h, w, r = layout(self, input)
   local v = gradOutput:contiguous():view(b, c, r, r, h / r, w / r):permute(1, 2, 5, 3, 6, 4):contiguous()
   self.gradInput = v:viewAs(input)
   return self.gradInput
end

return PixelSort
