-- nn.BilinearSamplerBHWD(): stnbhwd's sampler: input {images (B x H x W x C), grids (B x oH x
-- oW x 2, normalised (y, x) from nn.AffineGridGeneratorBHWD)}, or one image and grid without
-- the batch dimension; output B x oH x oW x C, each pixel the bilinear interpolation of the
-- image at its grid point ((-1, -1) the top-left pixel, (1, 1) the bottom-right), corners
-- outside the image counting 0. Forward only.
local schema = require('nn.schema')
local kernels = require('nn.kernels')
local BilinearSamplerBHWD, parent = torch.class('nn.BilinearSamplerBHWD', 'nn.Module')

schema.parameterless(BilinearSamplerBHWD, 'a function of its two inputs: no fields of its own')

function BilinearSamplerBHWD:__init()
   parent.__init(self)
   self.gradInput = {}
end

function BilinearSamplerBHWD:updateOutput(input)
   local function shape(t) return torch.isTensor(t) and table.concat(t:size():totable(), 'x') or torch.type(t) end
   if type(input) ~= 'table' or torch.typename(input) or not torch.isTensor(input[1]) or not torch.isTensor(input[2]) then
      error('<nn.BilinearSamplerBHWD> input must be {images, grids}, got ' .. torch.type(input), 2)
   end
   local images, grids = input[1], input[2]
   local single = images:dim() == 3
   if single then
      images = images:contiguous():view(1, images:size(1), images:size(2), images:size(3))
      grids = grids:dim() == 3 and grids:contiguous():view(1, grids:size(1), grids:size(2), grids:size(3)) or grids
   end
   if images:dim() ~= 4 or grids:dim() ~= 4 or grids:size(4) ~= 2 or images:size(1) ~= grids:size(1) then
      error(string.format('<nn.BilinearSamplerBHWD> expects images B x H x W x C and grids B x oH x oW x 2 '
                          .. '(or both without B), got %s and %s', shape(input[1]), shape(input[2])), 2)
   end
   nn.utils.checkSameType('nn.BilinearSamplerBHWD', grids, images)
   local out = kernels.output(self, images, {images:size(1), grids:size(2), grids:size(3), images:size(4)})
   kernels.bilinear_sampler_bhwd(out, images:contiguous(), grids:contiguous())
   if single then self.output = out:select(1, 1) end
   return self.output
end

return BilinearSamplerBHWD
