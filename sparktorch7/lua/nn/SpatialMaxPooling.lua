local schema = require('nn.schema')
local SpatialMaxPooling, parent = torch.class('nn.SpatialMaxPooling', 'nn.Module')

schema.declare(SpatialMaxPooling, {
   {'kW', 'posint'}, {'kH', 'posint'},
   {'dW', 'posint'}, {'dH', 'posint'},
   {'padW', 'natural?'}, {'padH', 'natural?'},
   {'ceil_mode', 'boolean?'}, {'indices', 'tensor?'},
})
local ops = require 'nn.spatial_ops'
local kernels = require 'nn.kernels'

-- self.indices (1-based positions in the input planes, for nn.SpatialMaxUnpooling) are
-- computed only when an unpooling reads them (nn.poolindices)
local poolindices = require 'nn.poolindices'

-- THNN drops a last window that would start in the right/bottom padding.
SpatialMaxPooling._clampLast = true
-- THNN refuses padding wider than half the kernel (cudnn does not)
SpatialMaxPooling._checkPad = true

function SpatialMaxPooling:__init(kW, kH, dW, dH, padW, padH)
   parent.__init(self)
   dW = dW or kW
   dH = dH or kH
   self.kW = kW
   self.kH = kH
   self.dW = dW
   self.dH = dH
   self.padW = padW or 0
   self.padH = padH or 0
   self.ceil_mode = false
   self.indices = torch.LongTensor()
end

function SpatialMaxPooling:ceil()
   self.ceil_mode = true
   return self
end

function SpatialMaxPooling:floor()
   self.ceil_mode = false
   return self
end

function SpatialMaxPooling:backCompatibility()
   self.ceil_mode = self.ceil_mode or false
   self.padW = self.padW or 0
   self.padH = self.padH or 0
end

function SpatialMaxPooling:_dilation()
   return 1, 1
end

function SpatialMaxPooling:updateOutput(input)
   self:backCompatibility()
   local dim = ops.checkDim(self, input, 3, 4, '3D or 4D (batch mode)')
   local dilW, dilH = self:_dilation()
   if self._checkPad and (self.kW / 2 < self.padW or self.kH / 2 < self.padH) then
      ops.fail(self, 'pad should be smaller than half of kernel size, but got padW = %d, '
               .. 'padH = %d, kW = %d, kH = %d', self.padW, self.padH, self.kW, self.kH)
   end
   local iH, iW = input:size(dim - 1), input:size(dim)
   local clamp = self._clampLast and (self.padW ~= 0 or self.padH ~= 0)
   local oH = ops.poolSize(iH, self.kH, self.dH, self.padH, dilH, self.ceil_mode, clamp)
   local oW = ops.poolSize(iW, self.kW, self.dW, self.padW, dilW, self.ceil_mode, clamp)
   if oH < 1 or oW < 1 then
      ops.fail(self, 'given input size (%s), calculated output size (%dx%d) is too small',
               ops.sizestr(input), oH, oW)
   end
   local sizes = ops.withTail(input, dim - 2, {oH, oW})
   local out = kernels.output(self, input, sizes)
   self.iheight, self.iwidth = iH, iW
   poolindices.forward(self, input, sizes, function(indices)
      kernels.max_pool2d(out, input, self.kW, self.kH, self.dW, self.dH, self.padW,
                         self.padH, dilW, dilH, indices)
   end)
   return out
end

function SpatialMaxPooling:_wantIndices()
   poolindices.want(self)
end

-- self.indices for the last forward (1-based positions in the input planes, LongTensor
-- of the output's size), computing them if that forward did not.
function SpatialMaxPooling:_poolingIndices()
   return poolindices.get(self, function(out, input, indices)
      local dilW, dilH = self:_dilation()
      kernels.max_pool2d(out, input, self.kW, self.kH, self.dW, self.dH, self.padW, self.padH,
                         dilW, dilH, indices)
   end)
end

-- gradInput: each gradOutput value goes to where its window's maximum came from (the
-- indices forward saved when it computed them, else found again from input and output).
function SpatialMaxPooling:updateGradInput(input, gradOutput)
   ops.checkGradOutput(self, input, gradOutput)
   local dilW, dilH = self:_dilation()
   local gin = kernels.output(self, input, nil, 'gradInput')
   local indices = poolindices.fresh(self)
   kernels.max_pool2d_grad(gin, gradOutput, input, self.kW, self.kH, self.dW, self.dH,
            self.padW, self.padH, dilW, dilH, indices, self.output)
   return gin
end

function SpatialMaxPooling:accGradParameters(input, gradOutput, scale)
end

function SpatialMaxPooling:__tostring__()
   local s = string.format('%s(%dx%d, %d,%d', torch.type(self), self.kW, self.kH, self.dW, self.dH)
   if (self.padW or 0) ~= 0 or (self.padH or 0) ~= 0 then
      s = s .. string.format(', %d,%d', self.padW, self.padH)
   end
   return s .. ')'
end

function SpatialMaxPooling:clearState()
   if torch.isTensor(self.indices) then
      self.indices:set()
   end
   return parent.clearState(self)
end
