-- nn.RReLU: y = x if x >= 0, else a * x. In evaluation a is the mean slope
-- (lower + upper) / 2; in training it is drawn uniformly in [lower, upper].
local pointwise = require('nn.pointwise')
local schema = require('nn.schema')
local RReLU, parent = torch.class('nn.RReLU', 'nn.Module')

schema.declare(RReLU, {
   {'lower', 'number'}, {'upper', 'number'},
   {'channelwise', 'boolean?'}, {'inplace', 'boolean?'}, {'noise', 'tensor?'},
})

function RReLU:__init(l, u, ip, cw)
   parent.__init(self)
   self.lower = l or 1 / 8
   self.upper = u or 1 / 3
   if not (self.lower <= self.upper and self.lower >= 0) then
      error('<nn.RReLU> needs 0 <= lower <= upper', 2)
   end
   self.noise = torch.Tensor()
   self.train = true
   self.inplace = ip or false
   self.channelwise = cw or false
end

function RReLU:updateOutput(input)
   local y, x, n, back = pointwise.begin(self, input, 'nn.RReLU')
   local lo, hi = self.lower, self.upper
   if self.train then
      -- slopes from torch's generator, so torch.manualSeed repeats them
      if not torch.isTensor(self.noise) then
         self.noise = torch.Tensor()
      end
      local noise = pointwise.contiguous(self.noise:resize(n):uniform(lo, hi))
      local a = noise:data()
      for i = 0, n - 1 do
         local v = x[i]
         if v >= 0 then y[i] = v else y[i] = v * a[i] end
      end
   else
      local a = (lo + hi) / 2
      for i = 0, n - 1 do
         local v = x[i]
         if v >= 0 then y[i] = v else y[i] = v * a end
      end
   end
   return pointwise.finish(self, input, back)
end

function RReLU:__tostring__()
   return string.format('%s (l:%f, u:%f, channel-wise:%s)', torch.type(self),
                        self.lower, self.upper, tostring(self.channelwise))
end

function RReLU:clearState()
   if self.noise then
      self.noise = nn.utils.newLike(self.noise)
   end
   return parent.clearState(self)
end

-- dE/dx = dE/dy where x > 0; elsewhere times the slope forward drew (training, when
-- upper - lower > 1e-6) or the mean slope (lower + upper) / 2. In place: over gradOutput.
function RReLU:updateGradInput(input, gradOutput)
   local gi, go, n, back = pointwise.beginGrad(self, input, gradOutput, 'nn.RReLU')
   local x = pointwise.contiguous(input):data()
   local lo, hi = self.lower, self.upper
   if self.train and hi - lo > 1e-6 then
      if not torch.isTensor(self.noise) or self.noise:nElement() ~= n then
         error('<nn.RReLU> no slopes for this input: run forward in training mode first', 2)
      end
      local a = pointwise.contiguous(self.noise):data()
      for i = 0, n - 1 do
         if x[i] > 0 then gi[i] = go[i] else gi[i] = go[i] * a[i] end
      end
   else
      local a = (lo + hi) / 2
      for i = 0, n - 1 do
         if x[i] > 0 then gi[i] = go[i] else gi[i] = go[i] * a end
      end
   end
   return pointwise.finishGrad(self, gradOutput, back)
end

return RReLU
