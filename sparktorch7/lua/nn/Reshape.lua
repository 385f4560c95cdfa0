-- nn.Reshape: the input (copied when not contiguous) seen with the given
-- sizes, keeping a leading batch dimension when there is one (or as forced by
-- a trailing boolean batchMode argument).
local pointwise = require('nn.pointwise')
local schema = require('nn.schema')
local Reshape, parent = torch.class('nn.Reshape', 'nn.Module')

schema.declare(Reshape, {
   {'size', 'longstorage', check = schema.naturalStorage},
   {'nelement', 'natural', check = function(n, m)
      local count = 1
      for i = 1, m.size:size() do count = count * m.size[i] end
      if n ~= count then
         return string.format('%d (the product of the sizes)', count), schema.holds(n)
      end
   end}, {'batchsize', 'longstorage?'}, {'batchMode', 'boolean?'},
})

function Reshape:__init(...)
   parent.__init(self)
   local args = {...}
   if torch.type(args[#args]) == 'boolean' then
      self.batchMode = args[#args]
      table.remove(args, #args)
   end
   if #args == 1 and torch.typename(args[1]) == 'torch.LongStorage' then
      args = args[1]:totable()
   end
   self.size = torch.LongStorage(args)
   self.nelement = 1
   local batch = {1}
   for i = 1, #args do
      self.nelement = self.nelement * args[i]
      batch[i + 1] = args[i]
   end
   self.batchsize = torch.LongStorage(batch)
end

function Reshape:updateOutput(input)
   local x = pointwise.contiguous(input)
   local sizes = self.size:totable()
   if self.batchMode == false
      or (self.batchMode == nil and input:nElement() == self.nelement and input:size(1) ~= 1) then
      self.output = x:view(torch.LongStorage(sizes))
   else
      table.insert(sizes, 1, input:size(1))
      self.output = x:view(torch.LongStorage(sizes))
   end
   return self.output
end

function Reshape:__tostring__()
   return torch.type(self) .. '(' .. table.concat(self.size:totable(), 'x') .. ')'
end

-- dE/dx = dE/dy seen with the input's sizes
function Reshape:updateGradInput(input, gradOutput)
   return pointwise.viewGrad(self, input, gradOutput, 'nn.Reshape')
end

return Reshape
