-- nn.ArgMax(dim, nInputDim, asLong): the index (1-based) of the maximum along
-- dim (dim + 1 for a batch, an input of more than nInputDim dimensions); a
-- LongTensor unless asLong is false.
local schema = require('nn.schema')
local kernels = require('nn.kernels')
local ArgMax, parent = torch.class('nn.ArgMax', 'nn.Module')

schema.declare(ArgMax, {
   {'dim', 'posint'},
   {'nInputDim', 'natural?'},
   {'asLong', 'boolean?'},
   {'_indices', 'tensor?'},
})

function ArgMax:__init(dim, nInputDim, asLong)
   parent.__init(self)
   self.dim = dim or 1
   self.nInputDim = nInputDim or 9999
   self.asLong = (asLong == nil) and true or asLong
   if self.asLong then
      self.output = torch.LongTensor()
   end
end

function ArgMax:updateOutput(input)
   if not torch.isTensor(input) then
      error('<nn.ArgMax> input must be a tensor, got ' .. torch.type(input), 2)
   end
   local dim = (input:dim() > self.nInputDim) and (self.dim + 1) or self.dim
   if dim > input:dim() then
      error(string.format('<nn.ArgMax> dimension %d of a %dD input', dim, input:dim()), 2)
   end
   local _, indices = torch.max(input, dim)
   self._indices = indices
   if not self.asLong and (not torch.isTensor(self.output) or torch.type(self.output) ~= torch.type(input)) then
      self.output = nn.utils.newLike(input)
   elseif self.asLong and torch.type(self.output) ~= 'torch.LongTensor' then
      self.output = torch.LongTensor()
   end
   if input:dim() > 1 then
      local idx = indices:select(dim, 1)
      self.output:resize(idx:size()):copy(idx)
   else
      self.output:resize(indices:size()):copy(indices)
   end
   return self.output
end

-- an index has no gradient: zeros shaped like the input, as dpnn gives
function ArgMax:updateGradInput(input, gradOutput)
   local gi = kernels.output(self, input, nil, 'gradInput')
   gi:zero()
   return gi
end

function ArgMax:type(typename, cache)
   if not typename then return parent.type(self) end
   self._indices = nil
   parent.type(self, typename, cache)
   if self.asLong then
      self.output = torch.LongTensor()
   end
   return self
end

return ArgMax
