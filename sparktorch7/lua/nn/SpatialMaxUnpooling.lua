local schema = require('nn.schema')
local SpatialMaxUnpooling, parent = torch.class('nn.SpatialMaxUnpooling', 'nn.Module')

-- the pooling module it inverts: a max pooling whose kernel equals its stride
local function maxPooling(p)
   if not torch.isTypeOf(p, 'nn.SpatialMaxPooling') then
      return 'an nn.SpatialMaxPooling', schema.holds(p)
   end
   if p.kW ~= p.dW or p.kH ~= p.dH then
      return 'a max pooling whose kernel size equals its stride',
             string.format('a kernel %sx%s with a stride %sx%s', tostring(p.kW), tostring(p.kH),
                           tostring(p.dW), tostring(p.dH))
   end
end
schema.declare(SpatialMaxUnpooling, {
   {'pooling', 'module', check = maxPooling},
   {'indices', 'tensor?'}, {'oheight', 'natural?'}, {'owidth', 'natural?'},
})
local ops = require 'nn.spatial_ops'
local kernels = require 'nn.kernels'

-- The inverse of a max pooling (kernel = stride) run earlier in the same forward
-- pass: zeros, with each input value put back where its pooled maximum came from.
function SpatialMaxUnpooling:__init(poolingModule)
   parent.__init(self)
   if not torch.isTypeOf(poolingModule, 'nn.SpatialMaxPooling') then
      error('<nn.SpatialMaxUnpooling> argument must be a nn.SpatialMaxPooling module', 2)
   end
   if poolingModule.kH ~= poolingModule.dH or poolingModule.kW ~= poolingModule.dW then
      error("<nn.SpatialMaxUnpooling> the size of pooling module's kernel must be equal to "
            .. 'its stride', 2)
   end
   self.pooling = poolingModule
   poolingModule:_wantIndices()
end

function SpatialMaxUnpooling:read(file, version)
   parent.read(self, file, version)
   if self.pooling and self.pooling._wantIndices then
      self.pooling:_wantIndices()
   end
end

function SpatialMaxUnpooling:setParams()
   self.indices = self.pooling:_poolingIndices()
   self.oheight = self.pooling.iheight
   self.owidth = self.pooling.iwidth
end

function SpatialMaxUnpooling:updateOutput(input)
   local dim = ops.checkDim(self, input, 3, 4, '3D or 4D (batch mode)')
   self:setParams()
   if self.oheight == nil or not torch.isTensor(self.indices) then
      ops.fail(self, 'the pooling module has not run forward yet')
   end
   local same = self.indices:dim() == dim
   for i = 1, dim do
      same = same and self.indices:size(i) == input:size(i)
   end
   if not same then
      ops.fail(self, 'input (%s) and the pooling indices (%s) differ in size',
               ops.sizestr(input), ops.sizestr(self.indices))
   end
   local out = kernels.output(self, input, ops.withTail(input, dim - 2, {self.oheight, self.owidth}))
   kernels.max_unpool2d(out, input, self.indices)
   return out
end

function SpatialMaxUnpooling:__tostring__()
   return 'nn.SpatialMaxUnpooling associated to ' .. tostring(self.pooling)
end
