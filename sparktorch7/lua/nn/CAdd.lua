-- nn.CAdd: y = x + bias, elementwise (bias repeated over a batch, or broadcast along its dimensions of size 1).
local pointwise = require('nn.pointwise')
local schema = require('nn.schema')
local CAdd, parent = torch.class('nn.CAdd', 'nn.Module')

schema.declare(CAdd, {
   {'size', 'longstorage?'},
   {'bias', 'tensor', nElement = 'nSize'},
   {'gradBias', 'tensor?'},
   nSize = 'size:prod()',
})

function CAdd:__init(...)
   parent.__init(self)
   local args = {...}
   if #args == 1 and torch.typename(args[1]) == 'torch.LongStorage' then
      self.size = torch.LongStorage(args[1]:totable())
   else
      self.size = torch.LongStorage(args)
   end
   self.bias = torch.Tensor(self.size)
   self.gradBias = torch.Tensor(self.size)
   self:reset()
end

function CAdd:reset(stdv)
   if stdv then
      stdv = stdv * math.sqrt(3)
   else
      stdv = 1 / math.sqrt(self.bias:nElement())
   end
   self.bias:uniform(-stdv, stdv)
   return self
end

function CAdd:updateOutput(input)
   return pointwise.applyParam(self, input, self.bias, 'add', 'nn.CAdd')
end

function CAdd:updateGradInput(input, gradOutput)
   return pointwise.gradCopy(self, input, gradOutput, 'nn.CAdd')
end

-- dE/dbias += scale dE/dy, summed over the rows or broadcast dimensions
function CAdd:accGradParameters(input, gradOutput, scale)
   pointwise.accParam(self, input, gradOutput, self.bias, 'gradBias', 'add', scale, 'nn.CAdd')
end

return CAdd
