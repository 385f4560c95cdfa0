-- nn.BilinearSamplerBHWD(): stnbhwd's sampler: input {images (B x H x W x C), grids (B x oH x
-- oW x 2, normalised (y, x) from nn.AffineGridGeneratorBHWD)}, or one image and grid without
-- the batch dimension; output B x oH x oW x C, each pixel the bilinear interpolation of the
-- image at its grid point ((-1, -1) the top-left pixel, (1, 1) the bottom-right), corners
-- outside the image counting 0. Backward gives {dE/dimages, dE/dgrids}; no parameters.
local schema = require('nn.schema')
local kernels = require('nn.kernels')
local BilinearSamplerBHWD, parent = torch.class('nn.BilinearSamplerBHWD', 'nn.Module')

schema.parameterless(BilinearSamplerBHWD, 'a function of its two inputs: no fields of its own')

function BilinearSamplerBHWD:__init()
   parent.__init(self)
   self.gradInput = {}
end

local function shape(t)
   return torch.isTensor(t) and table.concat(t:size():totable(), 'x') or torch.type(t)
end

-- {images, grids} with the batch dimension, and whether it was added
local function batched(input)
   if type(input) ~= 'table' or torch.typename(input) or not torch.isTensor(input[1]) or not torch.isTensor(input[2]) then
      error('<nn.BilinearSamplerBHWD> input must be {images, grids}, got ' .. torch.type(input), 3)
   end
   local images, grids = input[1], input[2]
   local single = images:dim() == 3
   if single then
      images = images:contiguous():view(1, images:size(1), images:size(2), images:size(3))
      grids = grids:dim() == 3 and grids:contiguous():view(1, grids:size(1), grids:size(2), grids:size(3)) or grids
   end
   if images:dim() ~= 4 or grids:dim() ~= 4 or grids:size(4) ~= 2 or images:size(1) ~= grids:size(1) then
      error(string.format('<nn.BilinearSamplerBHWD> expects images B x H x W x C and grids B x oH x oW x 2 '
                          .. '(or both without B), got %s and %s', shape(input[1]), shape(input[2])), 3)
   end
   nn.utils.checkSameType('nn.BilinearSamplerBHWD', grids, images)
   return images:contiguous(), grids:contiguous(), single
end

function BilinearSamplerBHWD:updateOutput(input)
   local images, grids, single = batched(input)
   local out = kernels.output(self, images, {images:size(1), grids:size(2), grids:size(3), images:size(4)})
   kernels.bilinear_sampler_bhwd(out, images, grids)
   if single then self.output = out:select(1, 1) end
   return self.output
end

-- gradInput = {dE/dimages, dE/dgrids}, stnbhwd's C code in NumPy
function BilinearSamplerBHWD:updateGradInput(input, gradOutput)
   local images, grids, single = batched(input)
   local B, oH, oW, C = images:size(1), grids:size(2), grids:size(3), images:size(4)
   if not torch.isTensor(gradOutput) or gradOutput:nElement() ~= B * oH * oW * C
      or gradOutput:size(gradOutput:dim()) ~= C or gradOutput:dim() ~= (single and 3 or 4) then
      error(string.format('<nn.BilinearSamplerBHWD> gradOutput must be the output\'s size, %s%dx%dx%d, got %s',
                          single and '' or (B .. 'x'), oH, oW, C, shape(gradOutput)), 2)
   end
   nn.utils.checkSameType('nn.BilinearSamplerBHWD', gradOutput, images)
   if type(self.gradInput) ~= 'table' or torch.typename(self.gradInput) then self.gradInput = {} end
   local gimages = kernels.output(self.gradInput, images, nil, 1)
   local ggrids = kernels.output(self.gradInput, grids, nil, 2)
   kernels.bilinear_sampler_bhwd_grad(gimages, ggrids, images, grids,
                                      gradOutput:contiguous():view(B, oH, oW, C))
   if single then
      self.gradInput[1], self.gradInput[2] = gimages:select(1, 1), ggrids:select(1, 1)
   end
   return self.gradInput
end

return BilinearSamplerBHWD
