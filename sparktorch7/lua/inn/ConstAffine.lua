-- inn.ConstAffine(nOutputPlane): y = a . x + b per channel (2D or 4D input).
local schema = require('nn.schema')
local kernels = require('nn.kernels')
local ConstAffine, parent = torch.class('inn.ConstAffine', 'nn.Module')

-- a scale and a shift per channel
schema.declare(ConstAffine, {
   {'a', 'tensor'},
   {'b', 'tensor', nElement = 'a:nElement()'},
   {'inplace', 'boolean?'},
})

function ConstAffine:__init(nOutputPlane, inplace)
   parent.__init(self)
   self.a = torch.Tensor(nOutputPlane):fill(1)
   self.b = torch.Tensor(nOutputPlane):zero()
   self.inplace = inplace or false
end

function ConstAffine:updateOutput(input)
   local n = self.a:nElement()
   local shape
   if torch.isTensor(input) and input:dim() == 2 then
      shape = {1, n}
   elseif torch.isTensor(input) and input:dim() == 4 then
      shape = {1, n, 1, 1}
   else
      error('<inn.ConstAffine> input must be 2D or 4D', 2)
   end
   local a = self.a:view(unpack(shape)):expandAs(input)
   local b = self.b:view(unpack(shape)):expandAs(input)
   if self.inplace then
      self.output = input
   else
      if not torch.isTensor(self.output) or torch.type(self.output) ~= torch.type(input) or self.output == input then
         self.output = nn.utils.newLike(input)
      end
      self.output:resizeAs(input):copy(input)
   end
   self.output:cmul(a):add(b)
   return self.output
end

-- a and b are constants (no gradient of their own, as in inn): dy/dx = a per channel
function ConstAffine:updateGradInput(input, gradOutput)
   local n = self.a:nElement()
   local shape = input:dim() == 2 and {1, n} or {1, n, 1, 1}
   local a = self.a:view(unpack(shape)):expandAs(gradOutput)
   if self.inplace then
      self.gradInput = gradOutput
   else
      self.gradInput = kernels.output(self, gradOutput, nil, 'gradInput')
      self.gradInput:copy(gradOutput)
   end
   self.gradInput:cmul(a)
   return self.gradInput
end

return ConstAffine
