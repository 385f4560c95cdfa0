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

-- backward with the shifted indices of the last forward; row 1 (index 0, padding) is held
-- at zero, so its gradient is kept at zero too
local function shifted(self, input)
   if not torch.isTensor(self.__input) or self.__input:nElement() ~= input:nElement() then
      error('<nn.LookupTableMaskZero> backward needs the forward of the same input first', 3)
   end
   return self.__input
end

function LookupTableMaskZero:updateGradInput(input, gradOutput)
   return parent.updateGradInput(self, shifted(self, input), gradOutput)
end

function LookupTableMaskZero:accGradParameters(input, gradOutput, scale)
   parent.accGradParameters(self, shifted(self, input), gradOutput, scale)
   self.gradWeight[1]:zero()
end

function LookupTableMaskZero:type(typename, cache)
   if typename then self.__input = nil end
   return parent.type(self, typename, cache)
end

return LookupTableMaskZero
