-- nn.MaskedSelect: input {t, mask} gives the 1D tensor of the elements of t
-- where mask (same number of elements) is non-zero, in row-major order.
local pointwise = require('nn.pointwise')
local kernels = require('nn.kernels')
local schema = require('nn.schema')
local MaskedSelect, parent = torch.class('nn.MaskedSelect', 'nn.Module')

schema.parameterless(MaskedSelect, 'combines the tensors of its input table: no fields of its own')

function MaskedSelect:__init()
   parent.__init(self)
   self.gradInput = {}
end

function MaskedSelect:updateOutput(input)
   if type(input) ~= 'table' or not torch.isTensor(input[1]) or not torch.isTensor(input[2]) then
      error('<nn.MaskedSelect> input must be {tensor, mask}', 2)
   end
   local t, mask = input[1], input[2]
   if t:nElement() ~= mask:nElement() then
      error('<nn.MaskedSelect> the mask must have as many elements as the tensor', 2)
   end
   local x, m = pointwise.contiguous(t), pointwise.contiguous(mask)
   local xp, mp, n = x:data(), m:data(), x:nElement()
   local count = 0
   for i = 0, n - 1 do
      if mp[i] ~= 0 then count = count + 1 end
   end
   local out = kernels.output(self, t, torch.LongStorage({count}))
   local yp, k = out:data(), 0
   for i = 0, n - 1 do
      if mp[i] ~= 0 then
         yp[k] = xp[i]
         k = k + 1
      end
   end
   return out
end

return MaskedSelect
