-- nn.SpatialAutoCropMSECriterion: nn.MSECriterion between an image (C x H x W, or a
-- batch N x C x H x W) and the centre of a target at least as large in height and
-- width: the target's rows and columns are cut evenly from both sides (one more from
-- the end when the difference is odd), as Torch7 does. Backward crops the target in
-- the same way, so it takes either the full target or one already of the input's size.
local schema = require('nn.schema')
local SpatialAutoCropMSECriterion, parent = torch.class('nn.SpatialAutoCropMSECriterion', 'nn.MSECriterion')

schema.inherited(SpatialAutoCropMSECriterion, "nn.MSECriterion's fields: the crop is computed at each call")

local NAME = '<nn.SpatialAutoCropMSECriterion>'

function SpatialAutoCropMSECriterion:__init(sizeAverage)
   parent.__init(self, sizeAverage)
end

-- target's centre of input's height and width, after checking their layouts
local function cropped(input, target)
   if not torch.isTensor(input) or not torch.isTensor(target) then
      error(string.format('%s input and target must be tensors, not %s and %s', NAME,
                          torch.type(input), torch.type(target)), 3)
   end
   local d = input:dim()
   if (d ~= 3 and d ~= 4) or target:dim() ~= d then
      error(string.format('%s input and target must both be 3D (C x H x W) or 4D (N x C x H x W), '
                          .. 'not %s and %s', NAME, nn.utils.describe(input), nn.utils.describe(target)), 3)
   end
   if d == 4 and input:size(1) ~= target:size(1) then
      error(string.format('%s target and input must have the same batch size: input is %s, target %s',
                          NAME, nn.utils.describe(input), nn.utils.describe(target)), 3)
   end
   local c = d - 2
   if input:size(c) ~= target:size(c) then
      error(string.format('%s target and input must have the same number of channels: input is %s, target %s',
                          NAME, nn.utils.describe(input), nn.utils.describe(target)), 3)
   end
   local h, w = input:size(d - 1), input:size(d)
   local th, tw = target:size(d - 1), target:size(d)
   if h > th or w > tw then
      error(string.format('%s the input resolution (%dx%d) must be smaller than or equal to the '
                          .. 'spatial resolution of the target (%dx%d)', NAME, h, w, th, tw), 3)
   end
   local top, left = math.floor((th - h) / 2), math.floor((tw - w) / 2)
   return target:narrow(d - 1, top + 1, h):narrow(d, left + 1, w)
end

function SpatialAutoCropMSECriterion:updateOutput(input, target)
   return parent.updateOutput(self, input, cropped(input, target))
end

function SpatialAutoCropMSECriterion:updateGradInput(input, target)
   return parent.updateGradInput(self, input, cropped(input, target))
end

return SpatialAutoCropMSECriterion
