-- nn.Mul: y = w * x with one learnt scalar w.
local pointwise = require('nn.pointwise')
local schema = require('nn.schema')
local Mul, parent = torch.class('nn.Mul', 'nn.Module')

schema.declare(Mul, {
   {'weight', 'tensor', nElement = 1},
   {'gradWeight', 'tensor?'},
})

function Mul:__init()
   parent.__init(self)
   self.weight = torch.Tensor(1)
   self.gradWeight = torch.Tensor(1)
   self:reset()
end

function Mul:reset(stdv)
   if stdv then
      stdv = stdv * math.sqrt(3)
   else
      stdv = 1 / math.sqrt(self.weight:size(1))
   end
   self.weight:uniform(-stdv, stdv)
   return self
end

function Mul:updateOutput(input)
   local y, x, n, back = pointwise.begin(self, input, 'nn.Mul')
   local w = pointwise.paramData(self.weight, 1, 'nn.Mul', 'weight')[0]
   for i = 0, n - 1 do
      y[i] = x[i] * w
   end
   return pointwise.finish(self, input, back)
end

-- dE/dx = w dE/dy
function Mul:updateGradInput(input, gradOutput)
   local gi, go, n, back = pointwise.beginGrad(self, input, gradOutput, 'nn.Mul')
   local w = pointwise.paramData(self.weight, 1, 'nn.Mul', 'weight')[0]
   for i = 0, n - 1 do
      gi[i] = go[i] * w
   end
   return pointwise.finishGrad(self, gradOutput, back)
end

-- dE/dw += scale x . dE/dy
function Mul:accGradParameters(input, gradOutput, scale)
   local n = input:nElement()
   if not torch.isTensor(gradOutput) or gradOutput:nElement() ~= n then
      error(string.format('<nn.Mul> gradOutput must be a tensor of %d elements (the input\'s)', n), 2)
   end
   if not torch.isTensor(self.gradWeight) or self.gradWeight:nElement() ~= 1 then
      self.gradWeight = self.weight.new():resizeAs(self.weight):zero()
   end
   local x = pointwise.contiguous(input):data()
   local go = pointwise.contiguous(gradOutput):data()
   local s = 0
   for i = 0, n - 1 do
      s = s + x[i] * go[i]
   end
   self.gradWeight:add((scale or 1) * s)
end

return Mul
