-- The methods shared by nn.Max and nn.Min: the largest (smallest) value of the input
-- over `dimension`, which is removed (kept, of size 1, for a 1D input). The first NaN wins and
-- ties keep the first position, as in Torch7; backward sends the gradient there.
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
      -- where each value came from (1-based, the reduced dimension kept as 1), for backward
      local kept = input:size():totable()
      kept[dim] = 1
      if not torch.isTensor(self._indices) or torch.type(self._indices) ~= 'torch.LongTensor' then
         self._indices = torch.LongTensor()
      end
      local idx = self._indices:resize(torch.LongStorage(kept))
      local xp, yp, ip = x:data(), out:data(), idx:data()
      for o = 0, outer - 1 do
         for k = 0, inner - 1 do
            local base = o * size * inner + k
            local best, at = xp[base], 0
            if best == best then
               for j = 1, size - 1 do
                  local v = xp[base + j * inner]
                  if v ~= v then
                     best, at = v, j   -- the first NaN wins
                     break
                  elseif (largest and v > best) or (not largest and v < best) then
                     best, at = v, j   -- ties keep the first
                  end
               end
            end
            yp[o * inner + k] = best
            ip[o * inner + k] = at + 1
         end
      end
      return out
   end

   -- dE/dx: zeros, and dE/dy at the position each value came from
   function class:updateGradInput(input, gradOutput)
      local dim = self:_getPositiveDimension(input)
      local outer, size, inner = pointwise.around(input, dim)
      if not torch.isTensor(self._indices) or self._indices:nElement() ~= outer * inner
            or not torch.isTensor(gradOutput) or gradOutput:nElement() ~= outer * inner then
         error(string.format('<%s> gradOutput must have the %d elements of the output of a forward on '
                             .. 'this input: run forward first', name, outer * inner), 2)
      end
      local gi = pointwise.zeroGrad(self, input, gradOutput):data()
      local go = pointwise.contiguous(gradOutput):data()
      local ip = pointwise.contiguous(self._indices):data()
      for o = 0, outer - 1 do
         for k = 0, inner - 1 do
            local j = o * inner + k
            gi[o * size * inner + k + (tonumber(ip[j]) - 1) * inner] = go[j]
         end
      end
      return self.gradInput
   end

   function class:clearState()
      nn.utils.clear(self, '_indices', '_output')
      return parent.clearState(self)
   end
end
