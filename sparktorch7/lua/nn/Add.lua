-- nn.Add: y = x + bias, with a bias of inputSize elements (repeated over the
-- rows of a batch) or one scalar bias.
local pointwise = require('nn.pointwise')
local schema = require('nn.schema')
local Add, parent = torch.class('nn.Add', 'nn.Module')

schema.declare(Add, {
   {'bias', 'tensor', check = 'bias:nElement() >= 1'},
   {'scalar', 'boolean|number?'},   -- Torch7 keeps whatever was passed (nn.Add(n, 1) too)
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

function Add:updateGradInput(input, gradOutput)
   return pointwise.gradCopy(self, input, gradOutput, 'nn.Add')
end

-- dE/dbias += scale dE/dy, summed over what each bias element was added to
function Add:accGradParameters(input, gradOutput, scale)
   scale = scale or 1
   if self.scalar or self.bias:nElement() == 1 then
      if not torch.isTensor(self.gradBias) or self.gradBias:nElement() ~= 1 then
         self.gradBias = self.bias.new():resizeAs(self.bias):zero()
      end
      self.gradBias:add(scale * gradOutput:sum())
   else
      pointwise.accParam(self, input, gradOutput, self.bias, 'gradBias', 'add', scale, 'nn.Add')
   end
end

return Add
