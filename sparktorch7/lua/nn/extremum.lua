-- The methods shared by nn.Max and nn.Min: the largest (smallest) value of the input
-- over `dimension`, which is removed (kept, of size 1, for a 1D input). NaN wins, as in Torch7.
local pointwise = require('nn.pointwise')
local kernels = require('nn.kernels')

return function(class, parent, name, largest)
   function class:__init(dimension, nInputDims)
      parent.__init(self)
      self.dimension = dimension or 1
      self.nInputDims = nInputDims
   end

   function class:_getPositiveDimension(input)
      local dim = pointwise.dimension(self.dimension, self.nInputDims, input:dim())
      if dim < 1 or dim > input:dim() then
         error(string.format('<%s> dimension %d out of range for a %dD input',
                             name, self.dimension, input:dim()), 3)
      end
      return dim
   end

   function class:updateOutput(input)
      local dim = self:_getPositiveDimension(input)
      local x = pointwise.contiguous(input)
      local outer, size, inner = pointwise.around(x, dim)
      local sizes = input:size():totable()
      if #sizes > 1 then
         table.remove(sizes, dim)
      else
         sizes[1] = 1
      end
      local out = kernels.output(self, input, torch.LongStorage(sizes))
      local xp, yp = x:data(), out:data()
      for o = 0, outer - 1 do
         for k = 0, inner - 1 do
            local base = o * size * inner + k
            local best = xp[base]
            for j = 1, size - 1 do
               local v = xp[base + j * inner]
               if largest then
                  if v > best or v ~= v then best = v end
               elseif v < best or v ~= v then
                  best = v
               end
            end
            yp[o * inner + k] = best
         end
      end
      return out
   end

   function class:clearState()
      nn.utils.clear(self, '_indices', '_output')
      return parent.clearState(self)
   end
end
