-- nn.Concat: applies every module to the same input and concatenates the
-- outputs along self.dimension.
local schema = require('nn.schema')
local Concat, parent = torch.class('nn.Concat', 'nn.Container')

schema.declare(Concat, {
   {'dimension', 'int'},
   {'size', 'longstorage?'}, {'outputSize', 'longstorage?'},
})

function Concat:__init(dimension)
   parent.__init(self)
   self.outputSize = torch.LongStorage()
   self.dimension = dimension
end

function Concat:backCompatibility(version)
   parent.backCompatibility(self, version)
   -- older files kept the output size in self.size, hiding the size() method
   if type(self.size) ~= 'function' and self.size ~= nil then
      self.outputSize = self.size
      self.size = nil
   end
end

-- The outputs of the children for input, and the size of their concatenation.
function Concat:_childOutputs(input)
   self:backCompatibility()
   local outs, size = {}, nil
   local dim = self.dimension
   for i, module in ipairs(self.modules) do
      local out = self:rethrowErrors(module, i, 'updateOutput', input)
      outs[i] = out
      if i == 1 then
         size = out:size():totable()
      else
         if out:dim() ~= #size then
            error(string.format('<%s> output %d has %d dimensions, output 1 has %d',
                                torch.type(self), i, out:dim(), #size), 3)
         end
         size[dim] = size[dim] + out:size(dim)
      end
   end
   return outs, size
end

function Concat:updateOutput(input)
   local outs, size = self:_childOutputs(input)
   if not size then
      return self.output
   end
   if not torch.isTensor(self.output) or torch.type(self.output) ~= torch.type(outs[1]) then
      self.output = nn.utils.newLike(outs[1])
   end
   self.outputSize = torch.LongStorage(size)
   self.output:resize(self.outputSize)
   local offset = 1
   for _, out in ipairs(outs) do
      local n = out:size(self.dimension)
      self.output:narrow(self.dimension, offset, n):copy(out)
      offset = offset + n
   end
   return self.output
end

function Concat:__tostring__()
   return self:_branchesString('   `-> ')
end

-- the part of gradOutput that belongs to a child's output, which starts at offset along self.dimension
function Concat:_childGradOutput(gradOutput, output, offset)
   return gradOutput:narrow(self.dimension, offset, output:size(self.dimension))
end

-- backward: every child gets the input and its part of gradOutput; the gradInput is their sum
function Concat:_childArgs(input, gradOutput)
   if not torch.isTensor(gradOutput) or gradOutput:dim() < self.dimension then
      error(string.format('<%s> gradOutput must be a tensor of at least %d dimensions',
                          torch.type(self), self.dimension), 3)
   end
   local args, offset = {}, 1
   for i, module in ipairs(self.modules) do
      local out = module.output
      if not torch.isTensor(out) or out:dim() < self.dimension then
         error(string.format('<%s> backward needs a forward first (module %d has no output)',
                             torch.type(self), i), 3)
      end
      args[i] = {i, input, self:_childGradOutput(gradOutput, out, offset)}
      offset = offset + out:size(self.dimension)
   end
   return args
end

Concat._gatherGradInput = parent._sumGradInputs

return Concat
