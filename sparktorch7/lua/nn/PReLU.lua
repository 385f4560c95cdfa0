-- nn.PReLU: y = x if x > 0, else w * x, with one learnt slope per channel
-- (nOutputPlane > 0; the channel dimension is 1 for 1D/3D inputs, 2 for
-- batches) or one shared slope (nOutputPlane = 0).
local pointwise = require('nn.pointwise')
local schema = require('nn.schema')
local PReLU, parent = torch.class('nn.PReLU', 'nn.Module')

schema.declare(PReLU, {
   {'nOutputPlane', 'natural?', default = 0},
   {'weight', 'tensor', check = function(w, m)
      local planes = rawget(m, 'nOutputPlane') or 0
      if w:nElement() < math.max(planes, 1) then
         return string.format('a tensor of %d elements (nOutputPlane, or 1 when nOutputPlane is 0)',
                              math.max(planes, 1)), schema.holds(w)
      end
   end},
   {'gradWeight', 'tensor?'},
})

function PReLU:__init(nOutputPlane)
   parent.__init(self)
   self.nOutputPlane = nOutputPlane or 0
   self.weight = torch.Tensor(nOutputPlane or 1):fill(0.25)
   self.gradWeight = torch.Tensor(nOutputPlane or 1)
end

-- (planes, batch, inner) of the channel layout: the elements of a contiguous input run
-- as batch x planes x inner; one shared slope is planes 1 over all of it
local function layout(self, input)
   local planes = self.nOutputPlane or 0
   if planes == 0 then
      return 1, 1, input:nElement()
   end
   local d = input:dim()
   local batch, inner
   if d == 1 then
      batch, inner = 1, 1
   elseif d == 2 then
      batch, inner = input:size(1), 1
   elseif d == 3 then
      batch, inner = 1, input:size(2) * input:size(3)
   elseif d == 4 then
      batch, inner = input:size(1), input:size(3) * input:size(4)
   else
      error('<nn.PReLU> input must be 1D, 2D, 3D or 4D', 3)
   end
   local cdim = (d == 1 or d == 3) and 1 or 2
   if input:size(cdim) ~= planes then
      error(string.format('<nn.PReLU> input has %d channels, the module has %d', input:size(cdim), planes), 3)
   end
   return planes, batch, inner
end

-- y = x where x > 0, else w_c x
function PReLU:updateOutput(input)
   local y, x, n, back = pointwise.begin(self, input, 'nn.PReLU')
   local planes, batch, inner = layout(self, input)
   local w = pointwise.paramData(self.weight, planes, 'nn.PReLU', 'weight')
   local i = 0
   for _ = 1, batch do
      for c = 0, planes - 1 do
         local a = w[c]
         for _ = 1, inner do
            local v = x[i]
            if v > 0 then y[i] = v else y[i] = v * a end
            i = i + 1
         end
      end
   end
   return pointwise.finish(self, input, back)
end

-- dE/dx = dE/dy where x > 0, else w_c dE/dy
function PReLU:updateGradInput(input, gradOutput)
   local planes, batch, inner = layout(self, input)
   local gi, go, n, back = pointwise.beginGrad(self, input, gradOutput, 'nn.PReLU')
   local x = pointwise.contiguous(input):data()
   local w = pointwise.paramData(self.weight, planes, 'nn.PReLU', 'weight')
   local i = 0
   for _ = 1, batch do
      for c = 0, planes - 1 do
         local a = w[c]
         for _ = 1, inner do
            if x[i] > 0 then gi[i] = go[i] else gi[i] = go[i] * a end
            i = i + 1
         end
      end
   end
   return pointwise.finishGrad(self, gradOutput, back)
end

-- dE/dw_c += scale * sum over the elements x <= 0 of channel c of x dE/dy
function PReLU:accGradParameters(input, gradOutput, scale)
   local planes, batch, inner = layout(self, input)
   if not torch.isTensor(gradOutput) or gradOutput:nElement() ~= input:nElement() then
      error('<nn.PReLU> gradOutput must have as many elements as the input', 2)
   end
   if not torch.isTensor(self.gradWeight) or self.gradWeight:nElement() ~= self.weight:nElement() then
      self.gradWeight = self.weight.new():resizeAs(self.weight):zero()
   end
   local x = pointwise.contiguous(input):data()
   local go = pointwise.contiguous(gradOutput):data()
   scale = scale or 1
   local sums = {}
   for c = 0, planes - 1 do sums[c] = 0 end
   local i = 0
   for _ = 1, batch do
      for c = 0, planes - 1 do
         local s = 0
         for _ = 1, inner do
            local v = x[i]
            if v <= 0 then s = s + v * go[i] end
            i = i + 1
         end
         sums[c] = sums[c] + s
      end
   end
   local g = self.gradWeight:view(self.gradWeight:nElement())
   for c = 0, planes - 1 do
      g[c + 1] = g[c + 1] + scale * sums[c]
   end
   return self.gradWeight
end

return PReLU
