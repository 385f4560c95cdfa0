-- nn.Padding: inserts |pad| entries of value along dimension dim, before
-- position index (pad < 0: counted from the start) or after it counted from
-- the end (pad > 0). With nInputDim, a batch input shifts dim by one.
local pointwise = require('nn.pointwise')
local schema = require('nn.schema')
local Padding, parent = torch.class('nn.Padding', 'nn.Module')

schema.declare(Padding, {
   {'dim', 'int'}, {'pad', 'int'}, {'nInputDim', 'natural?'},
   {'value', 'number?'}, {'index', 'int?'}, {'outputSize', 'longstorage?'},
})

function Padding:__init(dim, pad, nInputDim, value, index)
   parent.__init(self)
   self.value = value or 0
   self.index = index or 1
   self.dim = dim
   self.pad = pad
   self.nInputDim = nInputDim
   self.outputSize = torch.LongStorage()
end

-- files from before index (February 2016) padded at the start or the end
function Padding:backCompatibility(version)
   parent.backCompatibility(self, version)
   self.index = self.index or 1
   self.value = self.value or 0
end

-- the padded dimension, its input size n, the position the padding starts at (index, in
-- Torch7's reading: pad > 0 counts it from the end) and the padding's length
local function layout(self, input)
   local dim = self.dim
   if self.nInputDim and input:dim() ~= self.nInputDim then
      dim = dim + 1
   end
   if dim < 1 or dim > input:dim() then
      error(string.format('<nn.Padding> dimension %s out of range for a %dD input', tostring(dim), input:dim()), 3)
   end
   local n = input:size(dim)
   local index, pad = self.index or 1, self.pad
   if pad > 0 then
      index = n - index + 2
   else
      pad = -pad
   end
   return dim, n, index, pad
end

function Padding:updateOutput(input)
   local dim, n, index, pad = layout(self, input)
   local sizes = input:size():totable()
   sizes[dim] = n + pad
   self.outputSize = torch.LongStorage(sizes)
   if not torch.isTensor(self.output) or torch.type(self.output) ~= torch.type(input)
      or self.output == input then
      self.output = nn.utils.newLike(input)
   end
   self.output:resize(self.outputSize):fill(self.value or 0)
   if index == 1 then
      self.output:narrow(dim, 1 + pad, n):copy(input)
   elseif index == n + 1 then
      self.output:narrow(dim, 1, n):copy(input)
   else
      self.output:narrow(dim, 1, index - 1):copy(input:narrow(dim, 1, index - 1))
      self.output:narrow(dim, index + pad, n - (index - 1))
         :copy(input:narrow(dim, index, n - (index - 1)))
   end
   return self.output
end

-- dE/dx = dE/dy without the padded entries
function Padding:updateGradInput(input, gradOutput)
   local dim, n, index, pad = layout(self, input)
   if not torch.isTensor(gradOutput) or gradOutput:dim() ~= input:dim() or gradOutput:size(dim) ~= n + pad then
      error(string.format('<nn.Padding> gradOutput must be the output of forward: %d entries along dimension %d',
                          n + pad, dim), 2)
   end
   local gi = pointwise.zeroGrad(self, input, gradOutput)
   if index == 1 then
      gi:copy(gradOutput:narrow(dim, 1 + pad, n))
   elseif index == n + 1 then
      gi:copy(gradOutput:narrow(dim, 1, n))
   else
      gi:narrow(dim, 1, index - 1):copy(gradOutput:narrow(dim, 1, index - 1))
      gi:narrow(dim, index, n - (index - 1)):copy(gradOutput:narrow(dim, index + pad, n - (index - 1)))
   end
   return gi
end

return Padding
