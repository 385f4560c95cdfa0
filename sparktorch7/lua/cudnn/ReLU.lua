-- cudnn.ReLU: y = max(0, x).
local pointwise = require('nn.pointwise')
local schema = require('nn.schema')
local kernels = require('nn.kernels')
local ReLU, parent = torch.class('cudnn.ReLU', 'nn.Module')

schema.declare(ReLU, {
   {'inplace', 'boolean?'},
})

function ReLU:__init(inplace)
   parent.__init(self)
   self.inplace = inplace or false
end

function ReLU:updateOutput(input)
   -- a big contiguous input takes nn.Threshold's NumPy kernel (one vectorised pass, in
   -- place when inplace); the Lua loop stays for small ones
   if torch.isTensor(input) and input:isContiguous()
         and kernels.faster('threshold_max', input, input:nElement()) then
      local out = input
      if not self.inplace then
         out = kernels.output(self, input)
      end
      self.output = out
      kernels.threshold_max(out, input, 0)
      return out
   end
   local y, x, n, back = pointwise.begin(self, input, 'cudnn.ReLU')
   for i = 0, n - 1 do
      local v = x[i]
      if v > 0 then y[i] = v else y[i] = 0 end
   end
   return pointwise.finish(self, input, back)
end

return ReLU
