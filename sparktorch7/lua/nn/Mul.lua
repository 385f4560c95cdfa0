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

return Mul
