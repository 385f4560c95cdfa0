-- fb.python (facebook/fblualib): the Python bridge as fb.python's module. Its C part
-- (fb.python.lib, made by the state: sparktorch7/_pylib.pxi) gives references whose
-- operations all give references again, and only py.eval converts; this file adds
-- lexec / leval / lreval, which run Python code with the caller's Lua variables as locals.
local lib = require('fb.python.lib')

local M = {}
for k, v in pairs(lib) do M[k] = v end

-- The variables visible at a level of the stack (locals, upvalues, then globals),
-- those Python could hold: no functions, cdata or modules, and no name starting
-- with '_' or '(' (Lua's internal temporaries).
local function get_vars(level)
  level = level + 1
  local vars, modules = {}, {}
  for _, m in pairs(package.loaded) do modules[m] = true end

  local function add(name, value)
    if type(name) ~= 'string' then return end
    local first = name:sub(1, 1)
    if first == '(' or first == '_' or vars[name] ~= nil then return end
    local t = type(value)
    if t == 'function' or t == 'cdata' or modules[value] then return end
    vars[name] = value
  end

  -- (no frame at that level when the call was a tail call: then the globals only)
  local info = debug.getinfo(level, 'f')
  if info then
    local i = 1
    while true do
      local name, value = debug.getlocal(level, i)
      if not name then break end
      add(name, value)
      i = i + 1
    end
  end
  if info and info.func then
    local i = 1
    while true do
      local name, value = debug.getupvalue(info.func, i)
      if not name then break end
      add(name, value)
      i = i + 1
    end
    for name, value in pairs(debug.getfenv(info.func)) do add(name, value) end
  else
    for name, value in pairs(_G) do add(name, value) end
  end
  return vars
end
M.get_vars = get_vars

for _, name in ipairs({ 'exec', 'eval', 'reval' }) do
  local f = lib[name]
  M['l' .. name] = function(code, level)
    return f(code, get_vars((level or 1) + 1), true)
  end
end

return M
