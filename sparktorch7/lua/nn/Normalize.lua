-- nn.Normalize: divides each vector (1D input) or row (2D) by its p-norm,
-- (sum |x|^p + eps)^(1/p), or by max |x| + eps for p = math.huge.
local pointwise = require('nn.pointwise')
local kernels = require('nn.kernels')
local schema = require('nn.schema')
local Normalize, parent = torch.class('nn.Normalize', 'nn.Module')

schema.declare(Normalize, {
   {'p', 'number', min = 1e-300}, {'eps', 'number?'},
})

function Normalize:__init(p, eps)
   parent.__init(self)
   if not p or p <= 0 then
      error('<nn.Normalize> usage: nn.Normalize(p[, eps]) with p > 0', 2)
   end
   self.p = p
   self.eps = eps or 1e-10
end

function Normalize:updateOutput(input)
   if not torch.isTensor(input) or input:dim() > 2 or input:dim() == 0 then
      error('<nn.Normalize> input must be a 1D or 2D tensor', 2)
   end
   local x = pointwise.contiguous(input)
   local rows = input:dim() == 2 and input:size(1) or 1
   local n = input:size(input:dim())
   local out = kernels.output(self, input)
   local xp, yp = x:data(), out:data()
   local p, eps, abs = self.p, self.eps or 1e-10, math.abs   -- older files have no eps
   for r = 0, rows - 1 do
      local base = r * n
      local norm = 0
      if p == math.huge then
         for j = base, base + n - 1 do
            local v = abs(xp[j])
            if v > norm then norm = v end
         end
         norm = norm + eps
      else
         for j = base, base + n - 1 do
            norm = norm + abs(xp[j]) ^ p
         end
         norm = (norm + eps) ^ (1 / p)
      end
      for j = base, base + n - 1 do
         yp[j] = xp[j] / norm
      end
   end
   return out
end

function Normalize:__tostring__()
   local fmt = self.p % 1 == 0 and '%s(%d)' or '%s(%f)'
   return string.format(fmt, torch.type(self), self.p)
end

function Normalize:clearState()
   nn.utils.clear(self, {'_output', '_indices', '_gradInput', 'buffer', 'norm', 'normp', 'cross'})
   return parent.clearState(self)
end

return Normalize
