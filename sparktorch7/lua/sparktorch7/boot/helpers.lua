-- Loaded by the extension when a LuaState is created (sparktorch7/_state.pxi, _run_init):
-- not a module to require. Its one argument is the runtime's lua/ folder: it puts the
-- folder first on package.path, sets the global ffi and returns the small helpers the
-- extension calls under lua_pcall for every access that may run a metamethod, and the
-- metatable of structured errors (sparktorch7.errors), which _raise_status recognises.
local lua_dir = ...
local ffi = require('ffi')
package.path = lua_dir .. '/?.lua;' .. lua_dir .. '/?/init.lua;' .. package.path
_G.ffi = ffi

local rawget, type, getmetatable, tostring = rawget, type, getmetatable, tostring
local errors = require('sparktorch7.errors')
local cast, dptr = ffi.cast, ffi.typeof('const double*')
return {
  get = function(t, k) return t[k] end,
  set = function(t, k, v) t[k] = v end,
  len = function(t) return #t end,
  tostring = function(v) return tostring(v) end,
  next = next,
  -- t[1..n] = p[0..n-1] for a C array of doubles (lists of numbers, _convert.pxi)
  fill = function(t, p, n)
    local src = cast(dptr, p)
    for i = 1, n do t[i] = src[i - 1] end
  end,
  error_mt = errors.Error,
}
