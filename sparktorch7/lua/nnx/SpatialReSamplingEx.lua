-- nn.SpatialReSamplingEx{owidth=, oheight= | rwidth=, rheight=, mode=, yDim=,
-- xDim=}: resampling of dimensions yDim, xDim (2, 3 by default) in mode
-- 'simple' (nearest: up by repetition, down by taking every d-th pixel),
-- 'average' (down by block averages) or 'bilinear'. Both dimensions must grow
-- or both shrink.
local args = require('nnx.args')
local schema = require('nn.schema')
local kernels = require('nn.kernels')
local SpatialReSamplingEx, parent = torch.class('nn.SpatialReSamplingEx', 'nn.Module')

local MODE_C = {simple = 0, average = 1, bilinear = 2}

schema.declare(SpatialReSamplingEx, {
   {'rwidth', 'number?', check = 'rwidth > 0'}, {'rheight', 'number?', check = 'rheight > 0'},
   {'owidth', 'posint?'}, {'oheight', 'posint?'},
   {'mode', 'string', check = schema.oneOf('simple', 'average', 'bilinear')},
   {'mode_c', 'natural?', check = function(c, self)
      if c ~= MODE_C[self.mode] then return string.format('%d (mode %q)', MODE_C[self.mode], self.mode) end
   end},
   {'yDim', 'posint'},
   {'xDim', 'posint', check = 'xDim == yDim + 1'},
   {'outputSize', 'longstorage?'}, {'inputSize', 'longstorage?'},
   {'iheight', 'natural?'}, {'iwidth', 'natural?'},
   {'oheightCurrent', 'natural?'}, {'owidthCurrent', 'natural?'},
})

local MODES = {simple = 0, average = 1, bilinear = 2}

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
   local out4 = self.output:view(a, oH, oW, b)
   local mode = self.mode_c or MODES[self.mode]
   if mode == 2 then
      kernels.resample_bilinear(out4, x)
   elseif oH >= iH then
      kernels.resample_pick(out4, x, math.floor((oH + iH - 1) / iH),
                            math.floor((oW + iW - 1) / iW), true)
   elseif mode == 1 then
      kernels.resample_average(out4, x, math.floor(iH / oH), math.floor(iW / oW))
   else
      kernels.resample_pick(out4, x, math.floor(iH / oH), math.floor(iW / oW), false)
   end
   return self.output
end

function SpatialReSamplingEx:updateGradInput(input, gradOutput)
   local gin, gout = args.gradPlanes(self, input, gradOutput, self.yDim, self.xDim, 'nn.SpatialReSamplingEx')
   local oH, oW, iH, iW = self.oheightCurrent, self.owidthCurrent, input:size(self.yDim), input:size(self.xDim)
   local mode = self.mode_c or MODES[self.mode]
   if mode == 2 then
      kernels.resample_bilinear_grad(gin, gout)
   elseif oH >= iH then
      kernels.resample_pick_grad(gin, gout, math.floor((oH + iH - 1) / iH), math.floor((oW + iW - 1) / iW), true)
   elseif mode == 1 then
      kernels.resample_average_grad(gin, gout, math.floor(iH / oH), math.floor(iW / oW))
   else
      kernels.resample_pick_grad(gin, gout, math.floor(iH / oH), math.floor(iW / oW), false)
   end
   return self.gradInput
end

return SpatialReSamplingEx
