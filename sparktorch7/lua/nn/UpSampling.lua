local schema = require('nn.schema')
local UpSampling, parent = torch.class('nn.UpSampling', 'nn.Module')

schema.declare(UpSampling, {
   {'mode', 'string', check = schema.oneOf('nearest', 'linear')},
   {'scale_factor', 'posint?'},
   {'odepth', 'posint?'}, {'oheight', 'posint?'}, {'owidth', 'posint?'},
   {'inputSize', 'longstorage?'}, {'outputSize', 'longstorage?'},
})
local ops = require 'nn.spatial_ops'
local kernels = require 'nn.kernels'

-- Up-sampling of batch x planes x H x W images or batch x planes x D x H x W volumes:
-- 'nearest' repeats each cell scale_factor times along each axis; 'linear' ('bilinear',
-- 'trilinear') interpolates, corner-aligned, to scale_factor times the size or to the
-- given {oheight =, owidth = [, odepth =]}.
function UpSampling:__init(params, mode)
   parent.__init(self)
   if mode == 'linear' or mode == 'bilinear' or mode == 'trilinear' then
      self.mode = 'linear'
   else
      self.mode = 'nearest'
   end
   if type(params) == 'table' then
      if self.mode == 'nearest' then
         error('<nn.UpSampling> nearest neighbour upsampling requires a scale_factor', 2)
      end
      self.odepth, self.owidth, self.oheight = params.odepth, params.owidth, params.oheight
      if self.owidth == nil or self.oheight == nil then
         error('<nn.UpSampling> output height and width parameters are required', 2)
      end
   else
      if type(params) ~= 'number' or params < 1 then
         error('<nn.UpSampling> scale_factor must be a number >= 1, got ' .. tostring(params), 2)
      end
      if math.floor(params) ~= params then
         error('<nn.UpSampling> scale_factor must be integer', 2)
      end
      self.scale_factor = params
   end
   self.inputSize = torch.LongStorage(5):fill(0)
   self.outputSize = torch.LongStorage(5):fill(0)
end

-- the output size (a list) for input; records inputSize/outputSize as Torch7
function UpSampling:setSize(input)
   local dim = input:dim()
   local sizes = ops.sizes(input)
   local spatial = dim == 5 and 3 or 2
   if self.scale_factor ~= nil then
      for d = dim - spatial + 1, dim do sizes[d] = sizes[d] * self.scale_factor end
   else
      if dim == 5 and self.odepth == nil then
         ops.fail(self, 'no output depth (odepth) was supplied for volumetric upsampling')
      end
      if dim == 5 then sizes[dim - 2] = self.odepth end
      sizes[dim - 1] = self.oheight
      sizes[dim] = self.owidth
   end
   if not torch.typename(self.inputSize) then self.inputSize = torch.LongStorage(5) end
   if not torch.typename(self.outputSize) then self.outputSize = torch.LongStorage(5) end
   for d = 1, dim do
      self.inputSize[d] = input:size(d)
      self.outputSize[d] = sizes[d]
   end
   return sizes
end

local function check(self, input)
   if not torch.isTensor(input) or input:dim() < 4 or input:dim() > 5 then
      error(string.format('<nn.UpSampling> only supports 4D or 5D tensors, got %s',
                          torch.isTensor(input) and (input:dim() .. 'D') or torch.type(input)), 3)
   end
   return input:dim()
end

function UpSampling:updateOutput(input)
   local dim = check(self, input)
   local out = kernels.output(self, input, self:setSize(input))
   if self.mode == 'nearest' then
      local f = dim == 4 and kernels.upsample_nearest or kernels.upsample_nearest3d
      f(out, input, self.scale_factor)
   else
      local f = dim == 4 and kernels.upsample_bilinear or kernels.upsample_trilinear
      f(out, input)
   end
   return out
end

function UpSampling:updateGradInput(input, gradOutput)
   check(self, input)
   ops.checkGradOutput(self, input, gradOutput)
   local gin = kernels.output(self, input, nil, 'gradInput')
   if self.mode == 'nearest' then
      local f = input:dim() == 4 and kernels.upsample_nearest_grad or kernels.upsample_nearest3d_grad
      f(gin, gradOutput, self.scale_factor)
   else
      local f = input:dim() == 4 and kernels.upsample_bilinear_grad or kernels.upsample_trilinear_grad
      f(gin, gradOutput)
   end
   return gin
end

function UpSampling:__tostring__()
   if self.scale_factor ~= nil then
      return string.format('%s(%dx, %s)', torch.type(self), self.scale_factor, self.mode)
   elseif self.odepth ~= nil then
      return string.format('%s(%dx%dx%d, %s)', torch.type(self), self.odepth, self.oheight, self.owidth,
                           self.mode)
   end
   return string.format('%s(%dx%d, %s)', torch.type(self), self.oheight, self.owidth, self.mode)
end
