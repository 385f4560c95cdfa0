local schema = require('nn.schema')
local VolumetricReplicationPadding, parent =
   torch.class('nn.VolumetricReplicationPadding', 'nn.Module')

schema.declare(VolumetricReplicationPadding, {
   {'pleft', 'int'}, {'pright', 'int'}, {'ptop', 'int'}, {'pbottom', 'int'},
   {'pfront', 'int'}, {'pback', 'int'},
})
local ops = require 'nn.spatial_ops'
local kernels = require 'nn.kernels'

-- Pads the last three dimensions (T x H x W) of a 4D or 5D (batch) input by repeating
-- its border cells: pleft/pright along W, ptop/pbottom along H, pfront/pback along T
-- (each defaults to pleft); a negative amount crops.
function VolumetricReplicationPadding:__init(pleft, pright, ptop, pbottom, pfront, pback)
   parent.__init(self)
   self.pleft = pleft
   self.pright = pright or pleft
   self.ptop = ptop or pleft
   self.pbottom = pbottom or pleft
   self.pfront = pfront or pleft
   self.pback = pback or pleft
end

function VolumetricReplicationPadding:updateOutput(input)
   local dim = ops.checkDim(self, input, 4, 5, '4D or 5D (batch mode)')
   local oT = input:size(dim - 2) + self.pfront + self.pback
   local oH = input:size(dim - 1) + self.ptop + self.pbottom
   local oW = input:size(dim) + self.pleft + self.pright
   if oT < 1 or oH < 1 or oW < 1 then
      ops.fail(self, 'input (%s) is too small: calculated output D: %d H: %d W: %d',
               ops.sizestr(input), oT, oH, oW)
   end
   local out = kernels.output(self, input, ops.withTail(input, dim - 3, {oT, oH, oW}))
   kernels.pad3d(out, input, self.pleft, self.pright, self.ptop, self.pbottom, self.pfront,
                 self.pback, 'edge')
   return out
end

function VolumetricReplicationPadding:updateGradInput(input, gradOutput)
   ops.checkGradOutput(self, input, gradOutput)
   local gin = kernels.output(self, input, nil, 'gradInput')
   kernels.pad3d_grad(gin, gradOutput, self.pleft, self.pright, self.ptop, self.pbottom,
                      self.pfront, self.pback, 'edge')
   return gin
end

function VolumetricReplicationPadding:__tostring__()
   return torch.type(self) .. string.format('(left=%d, right=%d, top=%d, bottom=%d, front=%d, back=%d)',
      self.pleft, self.pright, self.ptop, self.pbottom, self.pfront, self.pback)
end
