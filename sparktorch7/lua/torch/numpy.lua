-- torch._np: calls from the torch runtime into numpy-backed Python functions.
-- Tensors cross as ndarray views of the same memory; numbers as numbers.
local py = py
local numpy = {}
local functions, modules = {}, {}

function numpy.callmod(modname, name, ...)
  local key = modname .. ":" .. name
  local f = functions[key]
  if f == nil then
    local m = modules[modname]
    if m == nil then
      m = py.import(modname)
      modules[modname] = m
    end
    f = m[name]
    functions[key] = f
  end
  return f(...)
end

function numpy.call(name, ...)
  return numpy.callmod("sparktorch7._ops", name, ...)
end

return numpy
