-- nn.Parallel: module i gets slice i of the input along inputDimension; the
-- outputs are concatenated along outputDimension.
local schema = require('nn.schema')
local Parallel, parent = torch.class('nn.Parallel', 'nn.Container')

schema.declare(Parallel, {
   {'inputDimension', 'int'}, {'outputDimension', 'int'},
   {'totalOutputSize', 'longstorage?'},
})

function Parallel:__init(inputDimension, outputDimension)
   parent.__init(self)
   self.modules = {}
   self.inputDimension = inputDimension
   self.outputDimension = outputDimension
end

function Parallel:updateOutput(input)
   local n = input:size(self.inputDimension)
   if n > #self.modules then
      error(string.format('<nn.Parallel> input has %d slices along dimension %d but there are %d modules',
                          n, self.inputDimension, #self.modules), 2)
   end
   local outs, size = {}, nil
   local odim = self.outputDimension
   for i = 1, n do
      local out = self:rethrowErrors(self.modules[i], i, 'updateOutput',
                                     input:select(self.inputDimension, i))
      outs[i] = out
      if i == 1 then
         size = out:size():totable()
      else
         size[odim] = size[odim] + out:size(odim)
      end
   end
   if not torch.isTensor(self.output) or torch.type(self.output) ~= torch.type(outs[1]) then
      self.output = nn.utils.newLike(outs[1])
   end
   self.totalOutputSize = torch.LongStorage(size)
   self.output:resize(self.totalOutputSize)
   local offset = 1
   for _, out in ipairs(outs) do
      local k = out:size(odim)
      self.output:narrow(odim, offset, k):copy(out)
      offset = offset + k
   end
   return self.output
end

function Parallel:__tostring__()
   return self:_branchesString(nil)
end

-- backward: child i gets slice i of the input and its part of gradOutput
function Parallel:_childArgs(input, gradOutput)
   local n = input:size(self.inputDimension)
   local odim = self.outputDimension
   local args, offset = {}, 1
   for i = 1, n do
      local out = self.modules[i].output
      if not torch.isTensor(out) or out:dim() < odim then
         error(string.format('<nn.Parallel> backward needs a forward first (module %d has no output)', i), 3)
      end
      args[i] = {i, input:select(self.inputDimension, i), gradOutput:narrow(odim, offset, out:size(odim))}
      offset = offset + out:size(odim)
   end
   return args
end

-- slice i of the gradInput is child i's
function Parallel:_gatherGradInput(input, grads)
   if not torch.isTensor(self.gradInput) or torch.type(self.gradInput) ~= torch.type(input)
         or self.gradInput == input then
      self.gradInput = nn.utils.newLike(input)
   end
   self.gradInput:resizeAs(input)
   for i = 1, #grads do
      self.gradInput:select(self.inputDimension, i):copy(grads[i])
   end
   return self.gradInput
end

return Parallel
