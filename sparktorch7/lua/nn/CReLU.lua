-- nn.CReLU: the concatenation of max(0, x) and max(0, -x) along the feature
-- dimension (dimension 2 of a batch: inputs with more than nInputDims
-- dimensions, else dimension 1).
local pointwise = require('nn.pointwise')
local schema = require('nn.schema')
local CReLU, parent = torch.class('nn.CReLU', 'nn.Sequential')

schema.declare(CReLU, {
   {'inplace', 'boolean?'}, {'nInputDims', 'int?'},
})

function CReLU:__init(nInputDims, inplace)
   parent.__init(self)
   self.nInputDims = nInputDims
   self.inplace = inplace or false
   local concat = nn.ConcatTable()
   concat:add(nn.Identity())
   concat:add(nn.MulConstant(-1))
   self:add(concat)
   self:add(nn.JoinTable(2))
   self:add(nn.ReLU(self.inplace))
end

function CReLU:updateOutput(input)
   local dim = 1
   if input:dim() > (self.nInputDims or input:dim() - 1) then
      dim = 2
   end
   self.modules[2].dimension = dim
   return parent.updateOutput(self, input)
end

function CReLU:__tostring__()
   return 'CReLU()'
end

-- y = [relu(x), relu(-x)] along dim: dE/dx = dE/dy_1 where x > 0, minus dE/dy_2 where x < 0
function CReLU:updateGradInput(input, gradOutput)
   local dim = self.modules[2].dimension
   local n = input:size(dim)
   if not torch.isTensor(gradOutput) or gradOutput:dim() ~= input:dim() or gradOutput:size(dim) ~= 2 * n then
      error(string.format('<nn.CReLU> gradOutput must be the output of forward: %d entries along dimension %d',
                          2 * n, dim), 2)
   end
   local gi = pointwise.gradLike(self, input, gradOutput)
   local pos = pointwise.contiguous(gradOutput:narrow(dim, 1, n)):data()
   local neg = pointwise.contiguous(gradOutput:narrow(dim, n + 1, n)):data()
   local x, g = pointwise.contiguous(input):data(), gi:data()
   for i = 0, input:nElement() - 1 do
      local v = x[i]
      if v > 0 then g[i] = pos[i] elseif v < 0 then g[i] = -neg[i] else g[i] = 0 end
   end
   return gi
end

-- no parameters; backward is updateGradInput (as Torch7's CReLU)
function CReLU:accGradParameters(input, gradOutput, scale)
end

function CReLU:backward(input, gradOutput, scale)
   return self:updateGradInput(input, gradOutput)
end

return CReLU
