-- nn.CReLU: the concatenation of max(0, x) and max(0, -x) along the feature
-- dimension (dimension 2 of a batch: inputs with more than nInputDims
-- dimensions, else dimension 1).
local schema = require('nn.schema')
local CReLU, parent = torch.class('nn.CReLU', 'nn.Sequential')

schema.declare(CReLU, {
   {'inplace', 'boolean?'}, {'nInputDims', 'int?'},
})

function CReLU:__init(nInputDims, inplace)
   parent.__init(self)
   self.nInputDims = nInputDims
   self.inplace = inplace or false
   local concat = nn.ConcatTable()
   concat:add(nn.Identity())
   concat:add(nn.MulConstant(-1))
   self:add(concat)
   self:add(nn.JoinTable(2))
   self:add(nn.ReLU(self.inplace))
end

function CReLU:updateOutput(input)
   local dim = 1
   if input:dim() > (self.nInputDims or input:dim() - 1) then
      dim = 2
   end
   self.modules[2].dimension = dim
   return parent.updateOutput(self, input)
end

function CReLU:__tostring__()
   return 'CReLU()'
end

return CReLU
