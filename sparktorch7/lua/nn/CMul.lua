-- nn.CMul: y = x * weight, elementwise (weight repeated over a batch, or broadcast along its dimensions of size 1).
local pointwise = require('nn.pointwise')
local schema = require('nn.schema')
local CMul, parent = torch.class('nn.CMul', 'nn.Module')

schema.declare(CMul, {
   {'size', 'longstorage?'},
   {'weight', 'tensor', nElement = 'nSize'},
   {'gradWeight', 'tensor?'},
   nSize = 'size:prod()',
})

function CMul:__init(...)
   parent.__init(self)
   local args = {...}
   if #args == 1 and torch.typename(args[1]) == 'torch.LongStorage' then
      self.size = torch.LongStorage(args[1]:totable())
   else
      self.size = torch.LongStorage(args)
   end
   self.weight = torch.Tensor(self.size)
   self.gradWeight = torch.Tensor(self.size)
   self:reset()
end

function CMul:reset(stdv)
   if stdv then
      stdv = stdv * math.sqrt(3)
   else
      stdv = 1 / math.sqrt(self.weight:nElement())
   end
   self.weight:uniform(-stdv, stdv)
   return self
end

function CMul:updateOutput(input)
   return pointwise.applyParam(self, input, self.weight, 'mul', 'nn.CMul')
end

-- dE/dx = dE/dy weight
function CMul:updateGradInput(input, gradOutput)
   return pointwise.gradParamMul(self, input, gradOutput, self.weight, 'nn.CMul')
end

-- dE/dweight += scale x dE/dy, summed over the rows or broadcast dimensions
function CMul:accGradParameters(input, gradOutput, scale)
   pointwise.accParam(self, input, gradOutput, self.weight, 'gradWeight', 'mul', scale, 'nn.CMul')
end

return CMul
