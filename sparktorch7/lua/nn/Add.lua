-- nn.Add: y = x + bias, with a bias of inputSize elements (repeated over the
-- rows of a batch) or one scalar bias.
local pointwise = require('nn.pointwise')
local schema = require('nn.schema')
local Add, parent = torch.class('nn.Add', 'nn.Module')

schema.declare(Add, {
   {'bias', 'tensor', check = 'bias:nElement() >= 1'},
   {'scalar', 'boolean?'},
   {'gradBias', 'tensor?'},
})

function Add:__init(inputSize, scalar)
   parent.__init(self)
   local size = inputSize
   if scalar then
      size = 1
   end
   self.scalar = scalar
   self.bias = torch.Tensor(size)
   self.gradBias = torch.Tensor(size)
   self:reset()
end

function Add:reset(stdv)
   if stdv then
      stdv = stdv * math.sqrt(3)
   else
      stdv = 1 / math.sqrt(self.bias:size(1))
   end
   self.bias:uniform(-stdv, stdv)
   return self
end

function Add:updateOutput(input)
   if self.scalar or self.bias:nElement() == 1 then
      local y, x, n, back = pointwise.begin(self, input, 'nn.Add')
      local b = pointwise.paramData(self.bias, 1, 'nn.Add', 'bias')[0]
      for i = 0, n - 1 do
         y[i] = x[i] + b
      end
      return pointwise.finish(self, input, back)
   end
   return pointwise.applyParam(self, input, self.bias, 'add', 'nn.Add')
end

return Add
