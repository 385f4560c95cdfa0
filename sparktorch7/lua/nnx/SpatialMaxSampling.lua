-- nn.SpatialMaxSampling(owidth, oheight) (or {owidth=, oheight=}): nnx's resampling of a
-- C x H x W image to C x oheight x owidth by maxima over windows: output (i, j) takes the max
-- of rows floor(i * dH) .. max(that + 1, floor((i + 1) * dH)) - 1 and the columns alike,
-- dH = H / oheight and dW = W / owidth in single precision as nnx computes them. indices
-- (2 x C x oheight x owidth) holds each max's 1-based row, then column, within its window;
-- the backward sends each gradient to that pixel.
local args = require('nnx.args')
local schema = require('nn.schema')
local kernels = require('nn.kernels')
local SpatialMaxSampling, parent = torch.class('nn.SpatialMaxSampling', 'nn.Module')

schema.declare(SpatialMaxSampling, {
   {'owidth', 'posint'}, {'oheight', 'posint'},
   {'indices', 'tensor?'},
})

function SpatialMaxSampling:__init(...)
   parent.__init(self)
   args.unpack(self, {...}, 'nn.SpatialMaxSampling', {{'owidth', nil, true}, {'oheight', nil, true}})
   self.indices = torch.Tensor()
end

function SpatialMaxSampling:updateOutput(input)
   if not torch.isTensor(input) or input:dim() ~= 3 then
      error('<nn.SpatialMaxSampling> input must be 3D (C x H x W), got '
            .. (torch.isTensor(input) and (input:dim() .. 'D') or torch.type(input)), 2)
   end
   local c = input:size(1)
   local out = kernels.output(self, input, {c, self.oheight, self.owidth})
   local idx = kernels.output(self, input, {2, c, self.oheight, self.owidth}, 'indices')
   kernels.max_sampling(out, idx, input:contiguous())
   return out
end

-- each gradient goes back to the pixel that held its window's maximum (indices)
function SpatialMaxSampling:updateGradInput(input, gradOutput)
   local c, H, W = input:size(1), input:size(2), input:size(3)
   if not torch.isTensor(gradOutput) or gradOutput:nElement() ~= c * self.oheight * self.owidth then
      error(string.format('<nn.SpatialMaxSampling> gradOutput must be %d x %d x %d, got %s', c, self.oheight,
                          self.owidth, torch.isTensor(gradOutput) and table.concat(gradOutput:size():totable(), 'x')
                          or torch.type(gradOutput)), 2)
   end
   local gin = kernels.output(self, input, nil, 'gradInput')
   kernels.max_sampling_grad(gin, self.indices, gradOutput:contiguous())
   return gin
end

return SpatialMaxSampling
