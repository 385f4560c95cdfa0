-- nn.OneHot: indices (1-based, any shape, or one number) to one-hot vectors of outputSize
-- along a new last dimension.
local pointwise = require('nn.pointwise')
local schema = require('nn.schema')
local OneHot, parent = torch.class('nn.OneHot', 'nn.Module')

schema.declare(OneHot, {
   {'outputSize', 'posint'},
})

function OneHot:__init(outputSize)
   parent.__init(self)
   self.outputSize = outputSize
end

function OneHot:updateOutput(input)
   local sizes
   if type(input) == 'number' then
      -- one index: a vector of outputSize (Torch7)
      input = torch.LongTensor({input})
      sizes = {}
   elseif torch.isTensor(input) then
      sizes = input:size():totable()
   else
      error(string.format('<nn.OneHot> input must be a tensor of indices or a number, not a %s',
                          torch.type(input)), 2)
   end
   sizes[#sizes + 1] = self.outputSize
   if not torch.isTensor(self.output) or self.output == input then
      self.output = torch.Tensor()
   end
   local out = self.output:resize(torch.LongStorage(sizes)):zero()
   if not out:isContiguous() then
      out = nn.utils.newLike(out):resize(torch.LongStorage(sizes)):zero()
      self.output = out
   end
   local x = pointwise.contiguous(input)
   local xp, yp, n = x:data(), out:data(), self.outputSize
   for i = 0, x:nElement() - 1 do
      local k = tonumber(xp[i])
      if k < 1 or k > n or k ~= math.floor(k) then
         error(string.format('<nn.OneHot> index %s out of range [1, %d]', tostring(k), n), 2)
      end
      yp[i * n + k - 1] = 1
   end
   return out
end

-- indices have no gradient: zeros shaped like the input, of the module's tensor type (0 for
-- a number, as Torch7)
function OneHot:updateGradInput(input, gradOutput)
   if type(input) == 'number' then
      return 0
   end
   if not torch.isTensor(self.gradInput) or self.gradInput == gradOutput then
      self.gradInput = nn.utils.newLike(self.output)
   end
   self.gradInput:resize(input:size()):zero()
   return self.gradInput
end

return OneHot
