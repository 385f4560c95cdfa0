-- nn.Bottle: folds the leading dimensions of an input into one batch
-- dimension, applies the module, and unfolds the output.
local schema = require('nn.schema')
local Bottle, parent = torch.class('nn.Bottle', 'nn.Container')

schema.declare(Bottle, {
   {'nInputDim', 'posint'}, {'nOutputDim', 'posint'}, {'dimDelta', 'int?'},
   {'modules', 'modules', check = schema.decorated},
})

function Bottle:__init(module, nInputDim, nOutputDim)
   parent.__init(self)
   self.nInputDim = nInputDim or 2
   self.nOutputDim = nOutputDim or self.nInputDim
   self.dimDelta = self.nInputDim - self.nOutputDim
   self.modules[1] = module
end

-- The sizes input is seen with by the module: its batch dimensions folded
-- into one (nil when there is nothing to fold), and the product of all but
-- the last of them.
function Bottle:_folded(input)
   if not torch.isTensor(input) then
      error(string.format('<nn.Bottle> input must be a tensor, not a %s', torch.type(input)), 3)
   end
   local batchDims = input:dim() - self.nInputDim + 1
   if batchDims <= 1 then
      return nil, 1
   end
   local inSize = input:size():totable()
   local prefix = 1
   for i = 1, batchDims - 1 do
      prefix = prefix * inSize[i]
   end
   local folded = {prefix * inSize[batchDims]}
   for i = batchDims + 1, #inSize do
      folded[#folded + 1] = inSize[i]
   end
   return torch.LongStorage(folded), prefix, batchDims
end

local function contiguousView(t, size)
   if not t:isContiguous() then
      t = t:contiguous()
   end
   return t:view(size)
end

function Bottle:updateOutput(input)
   local nOut = self.nOutputDim
   local module = self.modules[1]
   local folded, prefix, batchDims = self:_folded(input)
   if folded then
      local out = self:rethrowErrors(module, 1, 'updateOutput', contiguousView(input, folded))
      if out:dim() ~= nOut then
         error(string.format('<nn.Bottle> wrong number of output dims on module: expected %d, got %d',
                             nOut, out:dim()), 2)
      end
      local outSize = {}
      for i = 1, batchDims - 1 do
         outSize[i] = input:size(i)
      end
      outSize[#outSize + 1] = out:size(1) / prefix
      for i = 2, out:dim() do
         outSize[#outSize + 1] = out:size(i)
      end
      self.output = contiguousView(out, torch.LongStorage(outSize))
   else
      self.output = self:rethrowErrors(module, 1, 'updateOutput', input)
   end
   return self.output
end

-- backward: the module sees the folded input and gradOutput folded like its output
function Bottle:_childArgs(input, gradOutput)
   local folded = self:_folded(input)
   if not folded then
      return {{1, input, gradOutput}}
   end
   local out = self.modules[1].output
   if not torch.isTensor(out) or out:nElement() ~= gradOutput:nElement() then
      error(string.format('<nn.Bottle> gradOutput has %d elements, the output %d',
                          gradOutput:nElement(), torch.isTensor(out) and out:nElement() or 0), 3)
   end
   return {{1, contiguousView(input, folded), contiguousView(gradOutput, out:size())}}
end

-- the module's gradInput unfolded to the input's sizes
function Bottle:_gatherGradInput(input, grads)
   local g = grads[1]
   if self:_folded(input) and torch.isTensor(g) then
      g = contiguousView(g, input:size())
   end
   self.gradInput = g
   return g
end

function Bottle:__tostring__()
   local line, tab = '\n', '  '
   return torch.type(self) .. ' {' .. line .. tab
          .. tostring(self.modules[1]):gsub(line, line .. tab) .. line .. '}'
end

return Bottle
