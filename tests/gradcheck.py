"""Finite-difference gradient checks for modules and criterions whose inputs or
outputs are (nested) tables of tensors, where nn.Jacobian (tensors only) does not
reach. Installed into a LuaState as the global table `gradcheck`:

    gradcheck.criterion(c, input, target)   -> largest |analytic - numeric| of dE/dinput,
                                               and the largest |analytic| (to show it is not 0)
    gradcheck.module(m, input)              -> the same for a random projection of the output
    gradcheck.params(m, input)              -> the same for the parameters (accGradParameters)

The numeric side moves each input (or parameter) element by +-1e-6 and evaluates the
forward pass again; the analytic side is the module's own backward. A module's output
is projected on a fixed random tensor (table) R, so the checked quantity is
d(sum(output * R))/dinput, whose analytic value is backward(input, R).
"""

GRADCHECK_LUA = r"""
gradcheck = {}
local EPS = 1e-6

-- the tensors of a nested table, depth first
local function leaves(x, out)
   out = out or {}
   if torch.isTensor(x) then
      out[#out + 1] = x
   elseif type(x) == 'table' then
      for i = 1, #x do leaves(x[i], out) end
   end
   return out
end
gradcheck.leaves = leaves

-- a random value of the nesting and sizes of x
local function randomLike(x)
   if torch.isTensor(x) then
      return torch.randn(x:size()):typeAs(x)
   end
   local t = {}
   for i = 1, #x do t[i] = randomLike(x[i]) end
   return t
end
gradcheck.randomLike = randomLike

local function dot(a, b)
   local la, lb = leaves(a), leaves(b)
   assert(#la == #lb, 'nestings differ: ' .. #la .. ' and ' .. #lb .. ' tensors')
   local s = 0
   for i = 1, #la do
      assert(la[i]:nElement() == lb[i]:nElement(), 'sizes differ at tensor ' .. i)
      s = s + la[i]:contiguous():view(-1):dot(lb[i]:contiguous():view(-1))
   end
   return s
end

local function clone(x)
   if torch.isTensor(x) then return x:clone() end
   local t = {}
   for i = 1, #x do t[i] = clone(x[i]) end
   return t
end
gradcheck.clone = clone

-- largest difference between the analytic gradient (nested like the tensors
-- perturbed) and central differences of f, perturbing every element of tensors
local function compare(f, tensors, analytic)
   local ga = leaves(analytic)
   assert(#ga == #tensors, 'the gradient has ' .. #ga .. ' tensors for ' .. #tensors .. ' inputs')
   local err, scale = 0, 0
   for k, t in ipairs(tensors) do
      assert(t:isContiguous(), 'perturbed tensors must be contiguous')
      assert(ga[k]:nElement() == t:nElement(),
             string.format('gradient %d has %d elements for %d', k, ga[k]:nElement(), t:nElement()))
      local flat, g = t:view(-1), ga[k]:contiguous():view(-1)
      for i = 1, flat:nElement() do
         local v = flat[i]
         flat[i] = v + EPS
         local fp = f()
         flat[i] = v - EPS
         local fm = f()
         flat[i] = v
         err = math.max(err, math.abs((fp - fm) / (2 * EPS) - g[i]))
         scale = math.max(scale, math.abs(g[i]))
      end
   end
   return err, scale
end

function gradcheck.criterion(c, input, target)
   c:forward(input, target)
   local analytic = clone(c:backward(input, target))
   return compare(function() return c:forward(input, target) end, leaves(input), analytic)
end

function gradcheck.module(m, input, R)
   local out = m:forward(input)
   R = R or randomLike(out)
   local analytic = clone(m:backward(input, R))
   return compare(function() return dot(m:forward(input), R) end, leaves(input), analytic)
end

function gradcheck.params(m, input, R)
   local params, grads = m:parameters()
   assert(params and #params > 0, 'the module has no parameters')
   local out = m:forward(input)
   R = R or randomLike(out)
   m:zeroGradParameters()
   m:backward(input, R)
   local analytic = {}
   for i = 1, #grads do analytic[i] = grads[i]:clone() end
   return compare(function() return dot(m:forward(input), R) end, params, analytic)
end
"""


def install(state):
    """Defines the global `gradcheck` in state (nn loaded, doubles by default)."""
    state.execute("require 'nn'; torch.setdefaulttensortype('torch.DoubleTensor')")
    state.execute(GRADCHECK_LUA)
    return state
