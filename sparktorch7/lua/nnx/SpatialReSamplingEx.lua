-- nn.SpatialReSamplingEx{owidth=, oheight= | rwidth=, rheight=, mode=, yDim=,
-- xDim=}: resampling of dimensions yDim, xDim (2, 3 by default) in mode
-- 'simple' (nearest: up by repetition, down by taking every d-th pixel),
-- 'average' (down by block averages) or 'bilinear'. Both dimensions must grow
-- or both shrink.
local args = require('nnx.args')
local schema = require('nn.schema')
local kernels = require('nn.kernels')
local SpatialReSamplingEx, parent = torch.class('nn.SpatialReSamplingEx', 'nn.Module')

-- nnx's mode numbers (the mode_c field)
local MODES = {simple = 0, average = 1, bilinear = 2}

schema.declare(SpatialReSamplingEx, {
   {'rwidth', 'number?', check = 'rwidth > 0'}, {'rheight', 'number?', check = 'rheight > 0'},
   {'owidth', 'posint?'}, {'oheight', 'posint?'},
   {'mode', 'string', check = schema.oneOf('simple', 'average', 'bilinear')},
   {'mode_c', 'natural?', check = function(c, self)
      if c ~= MODES[self.mode] then return string.format('%d (mode %q)', MODES[self.mode], self.mode) end
   end},
   {'yDim', 'posint'},
   {'xDim', 'posint', check = 'xDim == yDim + 1'},
   {'outputSize', 'longstorage?'}, {'inputSize', 'longstorage?'},
   {'iheight', 'natural?'}, {'iwidth', 'natural?'},
   {'oheightCurrent', 'natural?'}, {'owidthCurrent', 'natural?'},
})

local unpack = unpack or table.unpack

function SpatialReSamplingEx:__init(...)
   parent.__init(self)
   args.unpack(self, {...}, 'nn.SpatialReSamplingEx',
               {{'rwidth'}, {'rheight'}, {'owidth'}, {'oheight'}, {'mode', 'simple'}, {'yDim', 2}, {'xDim', 3}})
   if self.yDim + 1 ~= self.xDim then
      error('<nn.SpatialReSamplingEx> yDim must be xDim - 1', 2)
   end
   self.mode_c = MODES[self.mode]
   if not self.mode_c then
      error("<nn.SpatialReSamplingEx> mode must be 'simple', 'average' or 'bilinear', got " .. tostring(self.mode), 2)
   end
   self.outputSize = torch.LongStorage(4)
   self.inputSize = torch.LongStorage(4)
end

-- The kernel (resample_<kind>, and resample_<kind>_grad backward) and its extra arguments
-- for an iH x iW -> oH x oW resampling: bilinear; upsampling picks each input
-- ceil(o / i) times; downsampling averages or picks blocks of floor(i / o).
local function plan(self, iH, iW, oH, oW)
   local mode = self.mode_c or MODES[self.mode]
   if mode == 2 then
      return 'bilinear', {}
   elseif oH >= iH then
      return 'pick', {math.floor((oH + iH - 1) / iH), math.floor((oW + iW - 1) / iW), true}
   elseif mode == 1 then
      return 'average', {math.floor(iH / oH), math.floor(iW / oW)}
   end
   return 'pick', {math.floor(iH / oH), math.floor(iW / oW), false}
end

function SpatialReSamplingEx:updateOutput(input)
   if not torch.isTensor(input) or input:dim() < self.xDim then
      error(string.format('<nn.SpatialReSamplingEx> input must have at least %d dimensions', self.xDim), 2)
   end
   self.iheight = input:size(self.yDim)
   self.iwidth = input:size(self.xDim)
   self.oheightCurrent = self.oheight or math.floor(self.rheight * self.iheight + 0.5)
   self.owidthCurrent = self.owidth or math.floor(self.rwidth * self.iwidth + 0.5)
   local oH, oW, iH, iW = self.oheightCurrent, self.owidthCurrent, self.iheight, self.iwidth
   if (oH >= iH) ~= (oW >= iW) then
      error('<nn.SpatialReSamplingEx> cannot upsample one dimension while downsampling the other', 2)
   end
   local x, a, b = args.planes4(input, self.yDim, self.xDim)
   local size = input:size()
   size[self.yDim], size[self.xDim] = oH, oW
   kernels.output(self, input, size)
   local kind, args = plan(self, iH, iW, oH, oW)
   kernels['resample_' .. kind](self.output:view(a, oH, oW, b), x, unpack(args))
   return self.output
end

function SpatialReSamplingEx:updateGradInput(input, gradOutput)
   local gin, gout = args.gradPlanes(self, input, gradOutput, self.yDim, self.xDim, 'nn.SpatialReSamplingEx')
   local kind, args = plan(self, input:size(self.yDim), input:size(self.xDim),
                           self.oheightCurrent, self.owidthCurrent)
   kernels['resample_' .. kind .. '_grad'](gin, gout, unpack(args))
   return self.gradInput
end

return SpatialReSamplingEx
