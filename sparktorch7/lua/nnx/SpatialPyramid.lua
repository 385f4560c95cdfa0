-- nn.SpatialPyramid(ratios, processors, kW, kH, dW, dH, xDimIn, yDimIn, xDimOut, yDimOut
-- [, prescaled_input]): nnx's multi-scale processing. Unfocused (the default, inference):
-- for each ratio r the input is averaged down by r (nn.SpatialReSamplingEx 'average'),
-- padded by floor/ceil((kW - dW) / 2) and (kH - dH) / 2, run through its processor and
-- repeated up by r ('simple'); the output is the table of the results. With
-- prescaled_input the input is already the table of scales (no down-sampling, no pad).
-- pyramid:focus(x, y [, w, h]) switches to the focused pipeline (a window of each scale
-- around x, y: what the processors need for a w x h output); focus(nil) switches back.
-- Backward, accGradParameters and parameters() go through the pipeline in use, as nnx.
local schema = require('nn.schema')
local SpatialPyramid, parent = torch.class('nn.SpatialPyramid', 'nn.Module')

schema.declare(SpatialPyramid, {
   {'ratios', 'table'}, {'processors', 'table'},
   {'kW', 'posint'}, {'kH', 'posint'}, {'dW', 'posint'}, {'dH', 'posint'},
   {'focused', 'boolean?'},
   {'focused_pipeline', 'module'}, {'unfocused_pipeline', 'module'},
})

function SpatialPyramid:__init(ratios, processors, kW, kH, dW, dH, xDimIn, yDimIn,
                               xDimOut, yDimOut, prescaled_input)
   parent.__init(self)
   if type(ratios) ~= 'table' or type(processors) ~= 'table' or #ratios ~= #processors or #ratios == 0 then
      error('<nn.SpatialPyramid> expects a list of ratios and a list of as many processors', 2)
   end
   for _, v in ipairs({kW, kH, dW, dH}) do
      if type(v) ~= 'number' then
         error('<nn.SpatialPyramid> expects (ratios, processors, kW, kH, dW, dH, ...) with numbers for kW, kH, dW, dH', 2)
      end
   end
   xDimIn, yDimIn = xDimIn or 3, yDimIn or 2
   xDimOut, yDimOut = xDimOut or 3, yDimOut or 2
   self.prescaled_input = prescaled_input or false
   self.ratios = ratios
   self.processors = processors
   self.kW, self.kH, self.dW, self.dH = kW, kH, dW, dH
   self.focused = false
   self.x, self.y, self.wFocus, self.hFocus = 0, 0, 0, 0
   local wPad, hPad = kW - dW, kH - dH
   self.focused_pipeline = nn.ConcatTable()
   for i, r in ipairs(ratios) do
      local seq = nn.Sequential()
      seq:add(nn.SpatialPadding(0, 0, 0, 0, yDimIn, xDimIn))
      seq:add(nn.SpatialReSamplingEx{rwidth = 1 / r, rheight = 1 / r, xDim = xDimIn, yDim = yDimIn, mode = 'average'})
      seq:add(processors[i])
      self.focused_pipeline:add(seq)
   end
   self.unfocused_pipeline = prescaled_input and nn.ParallelTable() or nn.ConcatTable()
   for i, r in ipairs(ratios) do
      local seq = nn.Sequential()
      if not prescaled_input then
         seq:add(nn.SpatialReSamplingEx{rwidth = 1 / r, rheight = 1 / r, xDim = xDimIn, yDim = yDimIn, mode = 'average'})
         seq:add(nn.SpatialPadding(math.floor(wPad / 2), math.ceil(wPad / 2), math.floor(hPad / 2),
                                   math.ceil(hPad / 2), yDimIn, xDimIn))
      end
      seq:add(processors[i])
      seq:add(nn.SpatialReSamplingEx{rwidth = r, rheight = r, xDim = xDimOut, yDim = yDimOut, mode = 'simple'})
      self.unfocused_pipeline:add(seq)
   end
end

function SpatialPyramid:focus(x, y, w, h)
   w, h = w or 1, h or 1
   if x and y then
      self.x, self.y, self.focused = x, y, true
      self.winWidth, self.winHeight = {}, {}
      for i, r in ipairs(self.ratios) do
         self.winWidth[i] = r * ((w - 1) * self.dW + self.kW)
         self.winHeight[i] = r * ((h - 1) * self.dH + self.kH)
      end
   else
      self.focused = false
   end
end

function SpatialPyramid:configureFocus(wImg, hImg)
   for i = 1, #self.ratios do
      local padder = self.focused_pipeline.modules[i].modules[1]
      padder.pad_l = -self.x + math.ceil(self.winWidth[i] / 2)
      padder.pad_r = self.x + math.floor(self.winWidth[i] / 2) - wImg
      padder.pad_t = -self.y + math.ceil(self.winHeight[i] / 2)
      padder.pad_b = self.y + math.floor(self.winHeight[i] / 2) - hImg
   end
end

function SpatialPyramid:checkSize(input)
   if not torch.isTensor(input) or input:dim() < 3 then
      error('<nn.SpatialPyramid> input must be a C x H x W image, got '
            .. (torch.isTensor(input) and (input:dim() .. 'D') or torch.type(input)), 3)
   end
   for _, r in ipairs(self.ratios) do
      if math.fmod(input:size(2), r) ~= 0 or math.fmod(input:size(3), r) ~= 0 then
         error(string.format('<nn.SpatialPyramid> input sizes must be multiples of the ratios: %dx%d and ratio %s',
                             input:size(2), input:size(3), tostring(r)), 3)
      end
   end
end

function SpatialPyramid:updateOutput(input)
   if not self.prescaled_input then self:checkSize(input) end
   if self.focused then
      self:configureFocus(input:size(3), input:size(2))
      self.output = self.focused_pipeline:updateOutput(input)
   else
      self.output = self.unfocused_pipeline:updateOutput(input)
   end
   return self.output
end

-- the pipeline of the mode in use
function SpatialPyramid:pipeline()
   return self.focused and self.focused_pipeline or self.unfocused_pipeline
end

function SpatialPyramid:updateGradInput(input, gradOutput)
   self.gradInput = self:pipeline():updateGradInput(input, gradOutput)
   return self.gradInput
end

function SpatialPyramid:accGradParameters(input, gradOutput, scale)
   self:pipeline():accGradParameters(input, gradOutput, scale)
end

-- the parameters of the pipeline in use (both hold the same processors)
function SpatialPyramid:parameters()
   return self:pipeline():parameters()
end

function SpatialPyramid:__tostring__()
   local p = self:pipeline()
   return 'SpatialPyramid (' .. (self.focused and 'focused' or 'unfocused') .. ')\n    |    '
      .. tostring(p):gsub('\n', '\n    |    ')
end

return SpatialPyramid
