local schema = require('nn.schema')
local VolumetricMaxUnpooling, parent = torch.class('nn.VolumetricMaxUnpooling', 'nn.Module')

-- the pooling module it inverts: a volumetric max pooling whose kernel equals its stride
local function maxPooling(p)
   if not torch.isTypeOf(p, 'nn.VolumetricMaxPooling') then
      return 'an nn.VolumetricMaxPooling', schema.holds(p)
   end
   if p.kT ~= p.dT or p.kW ~= p.dW or p.kH ~= p.dH then
      return 'a max pooling whose kernel size equals its stride',
             string.format('a kernel %sx%sx%s with a stride %sx%sx%s', tostring(p.kT), tostring(p.kW),
                           tostring(p.kH), tostring(p.dT), tostring(p.dW), tostring(p.dH))
   end
   local dT, dW, dH = p:_dilation()
   if dT ~= 1 or dW ~= 1 or dH ~= 1 then
      return 'a max pooling without dilation', string.format('a dilation %sx%sx%s', dT, dW, dH)
   end
end
schema.declare(VolumetricMaxUnpooling, {
   {'pooling', 'module', check = maxPooling},
   {'indices', 'tensor?'}, {'otime', 'natural?'}, {'oheight', 'natural?'}, {'owidth', 'natural?'},
   {'dT', 'posint?'}, {'dW', 'posint?'}, {'dH', 'posint?'},
   {'padT', 'natural?'}, {'padW', 'natural?'}, {'padH', 'natural?'},
})
local ops = require 'nn.spatial_ops'
local kernels = require 'nn.kernels'

-- The inverse of a volumetric max pooling (kernel = stride) run earlier in the same
-- forward pass: zeros, with each input value put back where its pooled maximum came from.
function VolumetricMaxUnpooling:__init(poolingModule)
   parent.__init(self)
   local problem = maxPooling(poolingModule)
   if problem then
      error('<nn.VolumetricMaxUnpooling> argument must be ' .. problem, 2)
   end
   self.pooling = poolingModule
   poolingModule:_wantIndices()
end

function VolumetricMaxUnpooling:read(file, version)
   parent.read(self, file, version)
   if self.pooling and self.pooling._wantIndices then
      self.pooling:_wantIndices()
   end
end

function VolumetricMaxUnpooling:setParams()
   local p = self.pooling
   self.indices = p:_poolingIndices()
   self.otime, self.oheight, self.owidth = p.itime, p.iheight, p.iwidth
   self.dT, self.dH, self.dW = p.dT, p.dH, p.dW
   self.padT, self.padH, self.padW = p.padT or 0, p.padH or 0, p.padW or 0
end

function VolumetricMaxUnpooling:updateOutput(input)
   local dim = ops.checkDim(self, input, 4, 5, '4D or 5D (batch mode)')
   self:setParams()
   if self.otime == nil then
      ops.fail(self, 'the pooling module has not run forward yet')
   end
   if not self.indices:isSameSizeAs(input) then
      ops.fail(self, 'input (%s) and the pooling indices (%s) differ in size',
               ops.sizestr(input), ops.sizestr(self.indices))
   end
   local out = kernels.output(self, input, ops.withTail(input, dim - 3,
                              {self.otime, self.oheight, self.owidth}))
   kernels.max_unpool3d(out, input, self.indices, self.dT, self.dW, self.dH, self.padT, self.padW,
                        self.padH)
   return out
end

-- each input cell takes the gradient at the position forward put it
function VolumetricMaxUnpooling:updateGradInput(input, gradOutput)
   ops.checkGradOutput(self, input, gradOutput)
   self:setParams()
   local gin = kernels.output(self, input, nil, 'gradInput')
   kernels.max_unpool3d_grad(gin, gradOutput, self.indices, self.dT, self.dW, self.dH, self.padT,
                             self.padW, self.padH)
   return gin
end

function VolumetricMaxUnpooling:empty()
   self:clearState()
end

function VolumetricMaxUnpooling:__tostring__()
   return 'nn.VolumetricMaxUnpooling associated to ' .. tostring(self.pooling)
end
