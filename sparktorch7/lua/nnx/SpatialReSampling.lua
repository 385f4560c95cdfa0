-- nn.SpatialReSampling{owidth=, oheight=} or {rwidth=, rheight=}: bilinear
-- (corner-aligned) resampling of images (C x H x W or N x C x H x W) to
-- oheight x owidth, or to the input size times the ratios (fixed at the first
-- forward, as nnx does).
local args = require('nnx.args')
local schema = require('nn.schema')
local kernels = require('nn.kernels')
local SpatialReSampling, parent = torch.class('nn.SpatialReSampling', 'nn.Module')

-- the output size, or the ratios to the input size (owidth/oheight are then set at the first
-- forward: a ratio times the input size, which may be fractional)
schema.declare(SpatialReSampling, {
   {'rwidth', 'number?', check = 'rwidth > 0'}, {'rheight', 'number?', check = 'rheight > 0'},
   {'owidth', 'number?', min = 1, max = 2147483647}, {'oheight', 'number?', min = 1, max = 2147483647},
})

function SpatialReSampling:__init(...)
   parent.__init(self)
   args.unpack(self, {...}, 'nn.SpatialReSampling',
               {{'rwidth'}, {'rheight'}, {'owidth'}, {'oheight'}})
end

function SpatialReSampling:updateOutput(input)
   if not torch.isTensor(input) or (input:dim() ~= 3 and input:dim() ~= 4) then
      error('<nn.SpatialReSampling> input must be 3D or 4D, got '
            .. (torch.isTensor(input) and table.concat(input:size():totable(), 'x') or torch.type(input)), 2)
   end
   local hDim, wDim = input:dim() - 1, input:dim()
   self.oheight = self.oheight or (self.rheight and self.rheight * input:size(hDim))
   self.owidth = self.owidth or (self.rwidth and self.rwidth * input:size(wDim))
   if not (self.oheight and self.owidth) then
      error('<nn.SpatialReSampling> needs owidth and oheight, or rwidth and rheight', 2)
   end
   local oH, oW = math.floor(self.oheight), math.floor(self.owidth)
   if oH < 1 or oW < 1 then
      error(string.format('<nn.SpatialReSampling> output size %d x %d is empty', oH, oW), 2)
   end
   local x, a = args.planes4(input, hDim, wDim)
   local size = input:size()
   size[hDim], size[wDim] = oH, oW
   kernels.output(self, input, size)
   kernels.resample_bilinear(self.output:view(a, oH, oW, 1), x)
   return self.output
end

function SpatialReSampling:updateGradInput(input, gradOutput)
   local hDim, wDim = input:dim() - 1, input:dim()
   local gin, gout = args.gradPlanes(self, input, gradOutput, hDim, wDim, 'nn.SpatialReSampling')
   kernels.resample_bilinear_grad(gin, gout)
   return self.gradInput
end

return SpatialReSampling
