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

function Bottle:updateOutput(input)
   local nIn, nOut = self.nInputDim, self.nOutputDim
   local batchDims = input:dim() - nIn + 1
   local module = self.modules[1]
   if batchDims > 1 then
      local inSize = input:size():totable()
      local prefix = 1
      for i = 1, batchDims - 1 do
         prefix = prefix * inSize[i]
      end
      local folded = {prefix * inSize[batchDims]}
      for i = batchDims + 1, #inSize do
         folded[#folded + 1] = inSize[i]
      end
      local x = input:isContiguous() and input or input:contiguous()
      local out = self:rethrowErrors(module, 1, 'updateOutput', x:view(torch.LongStorage(folded)))
      if out:dim() ~= nOut then
         error(string.format('<nn.Bottle> wrong number of output dims on module: expected %d, got %d',
                             nOut, out:dim()), 2)
      end
      local outSize = {}
      for i = 1, batchDims - 1 do
         outSize[i] = inSize[i]
      end
      outSize[#outSize + 1] = out:size(1) / prefix
      for i = 2, out:dim() do
         outSize[#outSize + 1] = out:size(i)
      end
      if not out:isContiguous() then
         out = out:contiguous()
      end
      self.output = out:view(torch.LongStorage(outSize))
   else
      self.output = self:rethrowErrors(module, 1, 'updateOutput', input)
   end
   return self.output
end

function Bottle:__tostring__()
   local line, tab = '\n', '  '
   return torch.type(self) .. ' {' .. line .. tab
          .. tostring(self.modules[1]):gsub(line, line .. tab) .. line .. '}'
end

return Bottle
