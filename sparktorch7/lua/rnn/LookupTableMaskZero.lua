-- nn.LookupTableMaskZero(nIndex, nOutput): a lookup table where index 0
-- gives a zero row (the weight has nIndex + 1 rows, row 1 kept at zero, and
-- index i reads row i + 1).
local schema = require('nn.schema')
local LookupTableMaskZero, parent = torch.class('nn.LookupTableMaskZero', 'nn.LookupTable')

schema.declare(LookupTableMaskZero, {
   {'__input', 'tensor?'},
})

function LookupTableMaskZero:__init(nIndex, nOutput)
   parent.__init(self, nIndex + 1, nOutput)
end

function LookupTableMaskZero:updateOutput(input)
   if not torch.isTensor(input) then
      error('<nn.LookupTableMaskZero> input must be a tensor of indices, got ' .. torch.type(input), 2)
   end
   self.weight[1]:zero()
   if not torch.isTensor(self.__input) or torch.type(self.__input) ~= torch.type(input) then
      self.__input = nn.utils.newLike(input)
   end
   self.__input:resizeAs(input):copy(input):add(1)
   return parent.updateOutput(self, self.__input)
end

function LookupTableMaskZero:type(typename, cache)
   if typename then self.__input = nil end
   return parent.type(self, typename, cache)
end

return LookupTableMaskZero
