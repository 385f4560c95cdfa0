local schema = require('nn.schema')
local VolumetricMaxPooling, parent = torch.class('nn.VolumetricMaxPooling', 'nn.Module')

schema.declare(VolumetricMaxPooling, {
   {'kT', 'posint'}, {'kW', 'posint'}, {'kH', 'posint'},
   {'dT', 'posint'}, {'dW', 'posint'}, {'dH', 'posint'},
   {'padT', 'natural?'}, {'padW', 'natural?'}, {'padH', 'natural?'},
   {'ceil_mode', 'boolean?'}, {'indices', 'tensor?'},
})
local ops = require 'nn.spatial_ops'
local kernels = require 'nn.kernels'
-- self.indices (Torch7's: each maximum's window tap along T, H, W packed in the bytes of a
-- long, for nn.VolumetricMaxUnpooling) are computed only when an unpooling reads them
local poolindices = require 'nn.poolindices'

VolumetricMaxPooling._clampLast = true
-- THNN refuses padding wider than half the kernel (cudnn does not)
VolumetricMaxPooling._checkPad = true

function VolumetricMaxPooling:__init(kT, kW, kH, dT, dW, dH, padT, padW, padH)
   parent.__init(self)
   self.kT = kT
   self.kW = kW
   self.kH = kH
   self.dT = dT or kT
   self.dW = dW or kW
   self.dH = dH or kH
   self.padT = padT or 0
   self.padW = padW or 0
   self.padH = padH or 0
   self.ceil_mode = false
   self.indices = torch.LongTensor()
end

function VolumetricMaxPooling:ceil()
   self.ceil_mode = true
   return self
end

function VolumetricMaxPooling:floor()
   self.ceil_mode = false
   return self
end

function VolumetricMaxPooling:backCompatibility()
   self.ceil_mode = self.ceil_mode or false
   self.padT = self.padT or 0
   self.padW = self.padW or 0
   self.padH = self.padH or 0
end

function VolumetricMaxPooling:_dilation()
   return 1, 1, 1
end

-- Shared by the volumetric poolings: output sizes T, H, W.
function VolumetricMaxPooling._outSize(self, input, dim)
   if self._checkPad and (self.kT / 2 < self.padT or self.kW / 2 < self.padW
                          or self.kH / 2 < self.padH) then
      error(string.format('<%s> pad should be smaller than half of kernel size, but got '
                          .. 'padT = %d, padW = %d, padH = %d, kT = %d, kW = %d, kH = %d',
                          torch.type(self), self.padT, self.padW, self.padH, self.kT, self.kW,
                          self.kH), 3)
   end
   local clamp = self._clampLast and (self.padT ~= 0 or self.padW ~= 0 or self.padH ~= 0)
   local dilT, dilW, dilH = 1, 1, 1
   if self._dilation then dilT, dilW, dilH = self:_dilation() end
   local oT = ops.poolSize(input:size(dim - 2), self.kT, self.dT, self.padT, dilT, self.ceil_mode, clamp)
   local oH = ops.poolSize(input:size(dim - 1), self.kH, self.dH, self.padH, dilH, self.ceil_mode, clamp)
   local oW = ops.poolSize(input:size(dim), self.kW, self.dW, self.padW, dilW, self.ceil_mode, clamp)
   if oT < 1 or oH < 1 or oW < 1 then
      error(string.format('<%s> given input size (%s), calculated output size (%dx%dx%d) is too small',
                          torch.type(self), ops.sizestr(input), oT, oH, oW), 3)
   end
   return oT, oH, oW
end

function VolumetricMaxPooling:updateOutput(input)
   self:backCompatibility()
   local dim = ops.checkDim(self, input, 4, 5, '4D or 5D (batch mode)')
   local oT, oH, oW = VolumetricMaxPooling._outSize(self, input, dim)
   local sizes = ops.withTail(input, dim - 3, {oT, oH, oW})
   local out = kernels.output(self, input, sizes)
   self.itime, self.iheight, self.iwidth = input:size(dim - 2), input:size(dim - 1), input:size(dim)
   poolindices.forward(self, input, sizes, function(indices)
      self:_pool(out, input, indices)
   end)
   return out
end

-- out := the pooled input; indices (when given) Torch7's packed window taps
function VolumetricMaxPooling:_pool(out, input, indices)
   local dilT, dilW, dilH = self:_dilation()
   if indices then
      kernels.max_pool3d_indices(out, indices, input, self.kT, self.kW, self.kH, self.dT, self.dW,
                                 self.dH, self.padT, self.padW, self.padH, dilT, dilW, dilH)
   else
      kernels.max_pool3d(out, input, self.kT, self.kW, self.kH, self.dT, self.dW, self.dH,
                         self.padT, self.padW, self.padH, dilT, dilW, dilH)
   end
end

function VolumetricMaxPooling:_wantIndices()
   poolindices.want(self)
end

-- self.indices for the last forward, computing them if that forward did not (the packed
-- bytes of 2016 files' float indices read as they were written)
function VolumetricMaxPooling:_poolingIndices()
   return poolindices.get(self, function(out, input, indices)
      self:_pool(out, input, indices)
   end, kernels.packed_indices_from_bytes)
end

function VolumetricMaxPooling:updateGradInput(input, gradOutput)
   ops.checkGradOutput(self, input, gradOutput)
   local gin = kernels.output(self, input, nil, 'gradInput')
   local dilT, dilW, dilH = self:_dilation()
   kernels.max_pool3d_grad(gin, gradOutput, input, self.kT, self.kW, self.kH, self.dT,
            self.dW, self.dH, self.padT, self.padW, self.padH, self.output, dilT, dilW, dilH)
   return gin
end

function VolumetricMaxPooling:accGradParameters(input, gradOutput, scale)
end

function VolumetricMaxPooling:__tostring__()
   return string.format('%s(%dx%dx%d, %d,%d,%d)', torch.type(self), self.kT, self.kW, self.kH,
                        self.dT, self.dW, self.dH)
end

function VolumetricMaxPooling:clearState()
   if torch.isTensor(self.indices) then
      self.indices:set()
   end
   return parent.clearState(self)
end
