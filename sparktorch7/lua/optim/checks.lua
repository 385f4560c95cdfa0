-- The argument checks every optim method makes: opfunc is a function, x a
-- tensor, and each evaluation gives f(x) (a number) and a gradient of x's
-- element count. Errors name the method and blame its caller. Returns its table.
local checks = {}

function checks.args(name, opfunc, x)
   if type(opfunc) ~= 'function' then
      error(string.format('<optim.%s> opfunc must be a function, not a %s', name, type(opfunc)), 3)
   end
   if not torch.isTensor(x) then
      error(string.format('<optim.%s> x must be a tensor, not a %s', name, torch.type(x)), 3)
   end
end

-- opfunc(x), its gradient checked
function checks.evaluate(name, opfunc, x)
   checks.args(name, opfunc, x)
   local fx, dfdx = opfunc(x)
   if not torch.isTensor(dfdx) or dfdx:nElement() ~= x:nElement() then
      error(string.format('<optim.%s> opfunc must return f(x) and a gradient of %d elements, '
                          .. 'not %s', name, x:nElement(),
                          torch.isTensor(dfdx) and (dfdx:nElement() .. ' elements') or torch.type(dfdx)), 3)
   end
   return fx, dfdx
end

-- opfunc wrapped so that every call is checked, f(x) a number too (for the
-- methods that call it many times and compute with f)
function checks.wrap(name, opfunc, x)
   checks.args(name, opfunc, x)
   local n = x:nElement()
   return function(xv)
      local fx, dfdx = opfunc(xv)
      if type(fx) ~= 'number' or not torch.isTensor(dfdx) or dfdx:nElement() ~= n then
         error(string.format('<optim.%s> opfunc must return f(x) and a gradient of %d elements, '
                             .. 'not %s and %s', name, n, torch.type(fx),
                             torch.isTensor(dfdx) and (dfdx:nElement() .. ' elements') or torch.type(dfdx)), 2)
      end
      return fx, dfdx
   end
end

return checks
