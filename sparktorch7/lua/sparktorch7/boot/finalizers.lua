-- Loaded by the extension when a LuaState is created (sparktorch7/_finalizers.pxi), before
-- package.path is set: not a module to require. Its one argument is report(err), a C
-- function that files a finalizer's error. It wraps every __gc finalizer Lua code can
-- install (newproxy, debug.setmetatable, ffi.gc, ffi.metatype) in a pcall, so that an
-- error in one reaches Python as a warning and never unwinds through C.
local report = ...
local pcall, type, next, rawget, rawset, rawequal = pcall, type, next, rawget, rawset, rawequal
local setmetatable, getmetatable = setmetatable, getmetatable
local dsetmt, dgetmt = debug.setmetatable, debug.getmetatable
local newproxy0 = newproxy
local ffi = require('ffi')
local ffi_gc, ffi_metatype = ffi.gc, ffi.metatype

-- (No weak table holds an entry per object or per finalizer: the GC traverses every weak
-- table in full at each cycle, and a table grown by 10^5 proxies never shrinks.)
local function new_wrapper(f)
  return function(o)
    local ok, err = pcall(f, o)
    if not ok then pcall(report, err) end
  end
end

-- ffi.gc's finalizers: most calls pass the same one (the runtime's ffi.C.free), so the
-- last one's wrapper is kept, and a few more in a small weak cache renewed now and then.
local last_f, last_w
local cache, cached = setmetatable({}, {__mode = 'kv'}), 0
local function wrap_cached(f)
  if rawequal(f, last_f) then return last_w end
  if f == nil then return nil end
  local w = cache[f]
  if w == nil then
    w = new_wrapper(f)
    if cached >= 64 then cache, cached = setmetatable({}, {__mode = 'kv'}), 0 end
    cache[f], cached = w, cached + 1
  end
  last_f, last_w = f, w
  return w
end

local function wrap(f)
  if f == nil then return nil end
  return new_wrapper(f)
end

-- later additions of __gc to a table given to debug.setmetatable
local guard = {
  __newindex = function(t, k, v)
    if rawequal(k, '__gc') then v = wrap(v) end
    rawset(t, k, v)
  end,
}

-- getmetatable(u) of a proxy is a stand-in that reads and writes the hidden metatable mt
-- (mt.__metatable is the stand-in; the stand-in's own metatable names mt as `hidden`)
local function hide(mt)
  local s = {}
  setmetatable(s, {
    __index = mt,
    __newindex = function(_, k, v)
      if rawequal(k, '__gc') then v = wrap(v)
      elseif rawequal(k, '__metatable') and v == nil then v = s end   -- it stays hidden
      rawset(mt, k, v)
    end,
    __metatable = false,
    hidden = mt,
  })
  rawset(mt, '__metatable', s)
end

-- the hidden metatable of a stand-in, or nil
local function hidden_of(s)
  local smt = type(s) == 'table' and dgetmt(s)
  local mt = type(smt) == 'table' and rawget(smt, 'hidden')
  if mt and rawequal(rawget(mt, '__metatable'), s) then return mt end
end

newproxy = function(arg)
  local u = newproxy0(arg)
  if arg == true then hide(dgetmt(u)) end
  return u
end

debug.setmetatable = function(o, mt)
  mt = hidden_of(mt) or mt               -- debug.setmetatable(u2, getmetatable(u))
  if type(o) == 'userdata' and type(mt) == 'table' and not hidden_of(rawget(mt, '__metatable')) then
    local g = rawget(mt, '__gc')
    if g ~= nil then rawset(mt, '__gc', wrap(g)) end
    if getmetatable(mt) == nil then setmetatable(mt, guard) end
  end
  return dsetmt(o, mt)
end

debug.getmetatable = function(o)
  local mt = dgetmt(o)
  if type(mt) == 'table' then
    local s = rawget(mt, '__metatable')
    if hidden_of(s) then return s end
  end
  return mt
end

ffi.gc = function(cd, f)
  return ffi_gc(cd, wrap_cached(f))
end

-- (always a copy: a __gc added to mt later has no effect instead of running unwrapped)
ffi.metatype = function(ct, mt)
  if type(mt) == 'table' then
    local copy = {}
    for k, v in next, mt do copy[k] = v end
    copy.__gc = wrap(rawget(mt, '__gc'))
    mt = copy
  end
  return ffi_metatype(ct, mt)
end
