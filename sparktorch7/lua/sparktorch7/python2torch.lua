-- The Lua side of sparktorch7.python2torch (PyTorch): the names of the state's global
-- functions, as python2torch's function_names listed them. Creates no globals.
local M = {}

-- the names of the functions in _G, sorted, joined by '\0' (a string converts the same
-- whatever the state's tables= option)
function M.function_names()
  local out = {}
  for name, value in pairs(_G) do
    if type(name) == 'string' and type(value) == 'function' then out[#out + 1] = name end
  end
  table.sort(out)
  return table.concat(out, '\0')
end

return M
