local schema = require('nn.schema')
local SpatialUpSamplingBilinear, parent =
   torch.class('nn.SpatialUpSamplingBilinear', 'nn.Module')

schema.declare(SpatialUpSamplingBilinear, {
   {'scale_factor', 'posint?'}, {'oheight', 'posint?'}, {'owidth', 'posint?'},
})
local ops = require 'nn.spatial_ops'
local kernels = require 'nn.kernels'

-- Bilinear up-sampling with the corners aligned. The argument is an integer scale
-- factor (output (n-1)*(s-1) + n) or a table {oheight=, owidth=}.
function SpatialUpSamplingBilinear:__init(params)
   parent.__init(self)
   if type(params) == 'table' then
      self.oheight = params.oheight
      self.owidth = params.owidth
      if type(self.oheight) ~= 'number' or type(self.owidth) ~= 'number' then
         error('<nn.SpatialUpSamplingBilinear> params must be a scale factor or a table '
               .. '{oheight=..., owidth=...}', 2)
      end
   elseif type(params) == 'number' then
      if params < 1 then
         error('<nn.SpatialUpSamplingBilinear> scale_factor must be greater than 1', 2)
      end
      if math.floor(params) ~= params then
         error('<nn.SpatialUpSamplingBilinear> scale_factor must be integer', 2)
      end
      self.scale_factor = params
   else
      error('<nn.SpatialUpSamplingBilinear> params must be a scale factor or a table '
            .. '{oheight=..., owidth=...}', 2)
   end
   self.inputSize = torch.LongStorage(4)
   self.outputSize = torch.LongStorage(4)
end

function SpatialUpSamplingBilinear:updateOutput(input)
   local dim = ops.checkDim(self, input, 3, 4, '3D or 4D (batch mode)')
   local h, w = input:size(dim - 1), input:size(dim)
   if self.scale_factor ~= nil then
      self.oheight = (h - 1) * (self.scale_factor - 1) + h
      self.owidth = (w - 1) * (self.scale_factor - 1) + w
   end
   local out = kernels.output(self, input, ops.withTail(input, dim - 2, {self.oheight, self.owidth}))
   kernels.upsample_bilinear(out, input)
   return out
end

function SpatialUpSamplingBilinear:updateGradInput(input, gradOutput)
   ops.checkGradOutput(self, input, gradOutput)
   local gin = kernels.output(self, input, nil, 'gradInput')
   kernels.upsample_bilinear_grad(gin, gradOutput)
   return gin
end

function SpatialUpSamplingBilinear:accGradParameters(input, gradOutput, scale)
end

function SpatialUpSamplingBilinear:__tostring__()
   if self.scale_factor then
      return string.format('%s(%d)', torch.type(self), self.scale_factor)
   end
   return string.format('%s(%d, %d)', torch.type(self), self.oheight, self.owidth)
end
