-- nn.Replicate: a view repeating the input nfeatures times along a new
-- dimension dim (stride 0, no copy); with ndim given, a batch input shifts dim.
local pointwise = require('nn.pointwise')
local schema = require('nn.schema')
local Replicate, parent = torch.class('nn.Replicate', 'nn.Module')

schema.declare(Replicate, {
   {'nfeatures', 'posint'}, {'dim', 'posint?'}, {'ndim', 'natural?'},
})

function Replicate:__init(nf, dim, ndim)
   parent.__init(self)
   self.nfeatures = nf
   self.dim = dim or 1
   self.ndim = ndim
   if self.dim <= 0 then
      error('<nn.Replicate> can only replicate across positive integer dimensions', 2)
   end
end

function Replicate:updateOutput(input)
   local dim = self.dim or 1
   if dim > input:dim() + 1 then
      error(string.format('<nn.Replicate> not enough input dimensions to replicate along dimension %d', dim), 2)
   end
   local rdim = dim + ((self.ndim and input:dim() > self.ndim) and 1 or 0)
   local sizes, strides = {}, {}
   for k = 1, input:dim() do
      local at = k >= rdim and k + 1 or k
      sizes[at] = input:size(k)
      strides[at] = input:stride(k)
   end
   sizes[rdim] = self.nfeatures
   strides[rdim] = 0
   self.output = pointwise.viewOf(input, sizes, strides)
   return self.output
end

-- dE/dx = dE/dy summed over the replicated dimension
function Replicate:updateGradInput(input, gradOutput)
   local rdim = (self.dim or 1) + ((self.ndim and input:dim() > self.ndim) and 1 or 0)
   if not torch.isTensor(gradOutput) or gradOutput:dim() ~= input:dim() + 1
         or gradOutput:nElement() ~= input:nElement() * self.nfeatures then
      error(string.format('<nn.Replicate> gradOutput must be the %dD output of forward', input:dim() + 1), 2)
   end
   local gi = pointwise.zeroGrad(self, input, gradOutput)
   gi:copy(gradOutput:sum(rdim):view(input:size()))
   return gi
end

return Replicate
