-- nn.DepthConcat: like nn.Concat, but outputs smaller than the largest in the
-- other dimensions are centred in a zero-padded window.
local schema = require('nn.schema')
local DepthConcat, parent = torch.class('nn.DepthConcat', 'nn.Concat')

schema.inherited(DepthConcat, "nn.Concat's fields")

function DepthConcat:windowNarrow(output, currentOutput, offset)
   local window = output:narrow(self.dimension, offset, currentOutput:size(self.dimension))
   for dim = 1, self.outputSize:size() do
      local size = currentOutput:size(dim)
      if dim ~= self.dimension and self.outputSize[dim] ~= size then
         local start = math.floor((self.outputSize[dim] - size) / 2 + 1)
         window = window:narrow(dim, start, size)
      end
   end
   return window
end

function DepthConcat:updateOutput(input)
   local outs, size = self:_childOutputs(input)
   if not size then
      return self.output
   end
   for i = 2, #outs do
      for dim = 1, #size do
         if dim ~= self.dimension then
            size[dim] = math.max(size[dim], outs[i]:size(dim))
         end
      end
   end
   if not torch.isTensor(self.output) or torch.type(self.output) ~= torch.type(outs[1]) then
      self.output = nn.utils.newLike(outs[1])
   end
   self.outputSize = torch.LongStorage(size)
   self.output:resize(self.outputSize):zero()
   local offset = 1
   for _, out in ipairs(outs) do
      self:windowNarrow(self.output, out, offset):copy(out)
      offset = offset + out:size(self.dimension)
   end
   return self.output
end

-- a child's part of gradOutput: the window its output was centred in
function DepthConcat:_childGradOutput(gradOutput, output, offset)
   return self:windowNarrow(gradOutput, output, offset)
end

return DepthConcat
