-- nn.Threshold: y = x if x > threshold, else val.
local pointwise = require('nn.pointwise')
local schema = require('nn.schema')
local kernels = require('nn.kernels')
local Threshold, parent = torch.class('nn.Threshold', 'nn.Module')

schema.declare(Threshold, {
   {'threshold', 'number'}, {'val', 'number'}, {'inplace', 'boolean?'},
})

function Threshold:__init(th, v, ip)
   parent.__init(self)
   self.threshold = th or 1e-6
   self.val = v or 0
   if (th and type(th) ~= 'number') or (v and type(v) ~= 'number') then
      error('<nn.Threshold> usage: nn.Threshold(threshold, value[, inplace])', 2)
   end
   self.inplace = ip or false
   if ip and type(ip) ~= 'boolean' then
      error('<nn.Threshold> in-place flag must be boolean', 2)
   end
end

function Threshold:updateOutput(input)
   local th, val = self.threshold, self.val
   -- a ReLU-like threshold (val == threshold) of a big contiguous input: one vectorised
   -- NumPy pass (in place when inplace)
   if val == th and torch.isTensor(input) and input:isContiguous()
         and kernels.faster('threshold_max', input, input:nElement()) then
      local out = input
      if not self.inplace then
         out = kernels.output(self, input)
      end
      self.output = out
      kernels.threshold_max(out, input, th)
      return out
   end
   local y, x, n, back = pointwise.begin(self, input, torch.type(self))
   if val == th then
      -- ReLU and its kin: branchless (a compare-and-branch per element mispredicts on real data)
      local max = math.max
      for i = 0, n - 1 do y[i] = max(x[i], th) end
   else
      for i = 0, n - 1 do
         local v = x[i]
         if v > th then y[i] = v else y[i] = val end
      end
   end
   return pointwise.finish(self, input, back)
end

-- dE/dx = dE/dy where x > threshold, else 0
function Threshold:updateGradInput(input, gradOutput)
   local mask = input:gt(self.threshold)
   self.gradInput = nn.utils.newLike(input):resizeAs(input):zero()
   self.gradInput:maskedCopy(mask, gradOutput:maskedSelect(mask))
   return self.gradInput
end

return Threshold
