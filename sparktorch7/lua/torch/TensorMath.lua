-- TensorMath: Torch7's math on every tensor class, in both forms torch.f([res,] ...) and t:f(...).
-- Required by torch/init.lua after the tensor core; each part below is a helper module.
require 'torch.math_util'
require 'torch.math_pointwise'
require 'torch.math_reduce'
require 'torch.math_blas'
require 'torch.random'
require 'torch.math_construct'
require 'torch.math_index'
require 'torch.math_ops'
require 'torch.lapack'
require 'torch.conv'

local torch = _G.torch
local U = require 'torch.math_util'

-- Strided kernels the tensor core may use for its own copy/fill of non-contiguous
-- tensors: torch._mathCopy(dst, src) (same element count, any types) and
-- torch._mathFill(t, value).
torch._mathCopy = U.copyInto
torch._mathFill = U.fill

-- Function forms torch.f(t, ...) of tensor methods that have none yet, as in Torch7.
for _, name in ipairs({ 'fill', 'zero', 'numel', 'squeeze', 'unsqueeze', 'transpose', 't', 'narrow',
                        'select', 'view', 'viewAs', 'expand', 'expandAs', 'clone', 'contiguous', 'equal',
                        'repeatTensor', 'permute', 'typeAs', 'resize', 'resizeAs', 'copy', 'unfold', 'sub' }) do
   if rawget(torch, name) == nil then
      torch[name] = function(t, ...)
         if not torch.isTensor(t) then
            error(string.format('<torch.%s> expected a tensor as first argument, got %s', name, torch.type(t)), 2)
         end
         local f = t[name]
         if f == nil then error(string.format('<torch.%s> %s has no method %s', name, torch.type(t), name), 2) end
         return f(t, ...)
      end
   end
end
