-- Operators on the tensor classes with Torch7's meaning: + - * / and unary minus.
-- `*` of two tensors is dot (1D.1D), mv (2D.1D) or mm (2D.2D); number op tensor works.
local U = require 'torch.math_util'
local torch = _G.torch

local recOf, isT = U.recOf, U.isTensor

local function operands(op, a, b)
   local ta, tb = isT(a), isT(b)
   if not ((ta or type(a) == 'number') and (tb or type(b) == 'number')) then
      U.error(op, 'operands must be tensors or numbers, got ' .. U.what(a) .. ' and ' .. U.what(b))
   end
   return ta, tb
end

local function add(a, b)
   local ta, tb = operands('__add', a, b)
   if ta and tb then return torch.add(a, b) end
   if ta then return torch.add(a, b) end
   return torch.add(b, a)
end

local function sub(a, b)
   local ta, tb = operands('__sub', a, b)
   if ta and tb then return torch.csub(a, b) end
   if ta then return torch.add(a, -b) end
   return torch.neg(b):add(a)
end

local function mul(a, b)
   local ta, tb = operands('__mul', a, b)
   if ta and tb then
      if a._dim == 1 and b._dim == 1 then return torch.dot(a, b) end
      if a._dim == 2 and b._dim == 1 then return torch.mv(a, b) end
      if a._dim == 2 and b._dim == 2 then return torch.mm(a, b) end
      U.error('__mul', 'multiplication between ' .. a._dim .. 'D and ' .. b._dim ..
         'D tensors is not defined (expected 1D*1D, 2D*1D or 2D*2D)')
   end
   if ta then return torch.mul(a, b) end
   return torch.mul(b, a)
end

local function div(a, b)
   local ta, tb = operands('__div', a, b)
   if ta and not tb then return torch.div(a, b) end
   if ta and tb then return torch.cdiv(a, b) end
   return torch.cinv(b):mul(a)
end

local function unm(a) return torch.neg(a) end

for _, rec in ipairs(U.recs) do
   local T = rec.Tensor
   T.__add, T.__sub, T.__mul, T.__div, T.__unm = add, sub, mul, div, unm
end

return {}
