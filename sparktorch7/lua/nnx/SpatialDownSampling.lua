-- nn.SpatialDownSampling(rW, rH) (or {rW=, rH=}): averages of rH x rW blocks
-- of a C x H x W image; output C x floor(H / rH) x floor(W / rW).
local args = require('nnx.args')
local schema = require('nn.schema')
local kernels = require('nn.kernels')
local SpatialDownSampling, parent = torch.class('nn.SpatialDownSampling', 'nn.Module')

schema.declare(SpatialDownSampling, {
   {'rW', 'posint'}, {'rH', 'posint'},
})

function SpatialDownSampling:__init(...)
   parent.__init(self)
   args.unpack(self, {...}, 'nn.SpatialDownSampling', {{'rW', nil, true}, {'rH', nil, true}})
end

function SpatialDownSampling:updateOutput(input)
   if not torch.isTensor(input) or input:dim() ~= 3 then
      error('<nn.SpatialDownSampling> input must be 3D (C x H x W), got '
            .. (torch.isTensor(input) and (input:dim() .. 'D') or torch.type(input)), 2)
   end
   if input:size(2) / self.rH < 1 then
      error(string.format('<nn.SpatialDownSampling> input too small in dimension 2 (%d < rH = %d)', input:size(2), self.rH), 2)
   elseif input:size(3) / self.rW < 1 then
      error(string.format('<nn.SpatialDownSampling> input too small in dimension 3 (%d < rW = %d)', input:size(3), self.rW), 2)
   end
   local oH, oW = math.floor(input:size(2) / self.rH), math.floor(input:size(3) / self.rW)
   kernels.output(self, input, {input:size(1), oH, oW})
   local x, a = require('nnx.args').planes4(input, 2, 3)
   kernels.resample_average(self.output:view(a, oH, oW, 1), x, self.rH, self.rW)
   return self.output
end

function SpatialDownSampling:updateGradInput(input, gradOutput)
   local gin, gout = require('nnx.args').gradPlanes(self, input, gradOutput, 2, 3, 'nn.SpatialDownSampling')
   kernels.resample_average_grad(gin, gout, self.rH, self.rW)
   return self.gradInput
end

return SpatialDownSampling
