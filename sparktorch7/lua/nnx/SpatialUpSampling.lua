-- nn.SpatialUpSampling(dW, dH, yDim, xDim) (or named): nearest-neighbour
-- up-sampling of dimensions yDim, xDim (2, 3 by default): each pixel repeated
-- dH x dW times.
local args = require('nnx.args')
local schema = require('nn.schema')
local kernels = require('nn.kernels')
local SpatialUpSampling, parent = torch.class('nn.SpatialUpSampling', 'nn.Module')

schema.declare(SpatialUpSampling, {
   {'dW', 'posint'}, {'dH', 'posint'},
   {'yDim', 'posint?', default = 2, check = function(y, self)
      if self.xDim == nil and y ~= 2 then return '2 (xDim - 1, xDim being absent: 3)' end
   end},
   {'xDim', 'posint?', default = 3, check = 'xDim == yDim + 1'},
   {'outputSize', 'longstorage?'}, {'inputSize', 'longstorage?'},
})

function SpatialUpSampling:__init(...)
   parent.__init(self)
   args.unpack(self, {...}, 'nn.SpatialUpSampling',
               {{'dW', nil, true}, {'dH', nil, true}, {'yDim', 2}, {'xDim', 3}})
   if self.yDim + 1 ~= self.xDim then
      error('<nn.SpatialUpSampling> yDim must be xDim - 1', 2)
   end
   self.outputSize = torch.LongStorage(4)
   self.inputSize = torch.LongStorage(4)
end

function SpatialUpSampling:updateOutput(input)
   local yDim, xDim = self.yDim or 2, self.xDim or 3
   if not torch.isTensor(input) or input:dim() < xDim then
      error(string.format('<nn.SpatialUpSampling> input must have at least %d dimensions', xDim), 2)
   end
   local x, a, b = args.planes4(input, yDim, xDim)
   local oH, oW = input:size(yDim) * self.dH, input:size(xDim) * self.dW
   local size = input:size()
   size[yDim], size[xDim] = oH, oW
   kernels.output(self, input, size)
   kernels.resample_pick(self.output:view(a, oH, oW, b), x, self.dH, self.dW, true)
   return self.output
end

function SpatialUpSampling:updateGradInput(input, gradOutput)
   local gin, gout = args.gradPlanes(self, input, gradOutput, self.yDim or 2, self.xDim or 3, 'nn.SpatialUpSampling')
   kernels.resample_pick_grad(gin, gout, self.dH, self.dW, true)
   return self.gradInput
end

return SpatialUpSampling
