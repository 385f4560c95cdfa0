-- Torch7's small utility functions of utils.c (doc/utility.md): tic/toc, math threads,
-- isatty, isequal, getenv/setenv, version, newmetatable.
local ffi = require 'ffi'
local torch = torch

-- (each declaration once per state: ffi.cdef is global, torch.Timer declares clock_gettime)
for _, decl in ipairs({
   'struct sparktorch7_timespec { int64_t tv_sec; long tv_nsec; };',
   'int clock_gettime(int clk_id, struct sparktorch7_timespec* tp);',
   'int isatty(int fd);',
   'int fileno(void *stream);',
}) do
   pcall(ffi.cdef, decl)
end
local C = ffi.C
local CLOCK_REALTIME = 0
local ts = ffi.new('struct sparktorch7_timespec')

-- wall-clock seconds since the epoch (as Torch7's real_time)
function torch.tic()
   C.clock_gettime(CLOCK_REALTIME, ts)
   return tonumber(ts.tv_sec) + tonumber(ts.tv_nsec) * 1e-9
end

function torch.toc(t0)
   if type(t0) ~= 'number' then
      error('<torch.toc> expects the number torch.tic() returned, got ' .. type(t0), 2)
   end
   return torch.tic() - t0
end

-- The math threads: those of the BLAS numpy loaded (sparktorch7._blas), which does the heavy
-- work Torch7 gave to OpenMP. Without a BLAS to ask, one thread.
local blas
local function blasModule()
   if blas == nil then blas = py and py.import('sparktorch7._blas') or false end
   return blas
end

function torch.getnumthreads()
   local b = blasModule()
   local n = b and b.get_threads() or nil
   return n or 1
end

function torch.setnumthreads(n)
   if type(n) ~= 'number' or n ~= math.floor(n) then
      error('<torch.setnumthreads> expects an integer number of threads, got ' .. tostring(n), 2)
   end
   local b = blasModule()
   if b and n >= 1 then b.set_threads(n) end
end

function torch.getnumcores()
   local b = blasModule()
   if b then return py.import('os').cpu_count() or 1 end
   return 1
end

-- whether a Lua file handle (io.stdout, ...) is a terminal
function torch.isatty(f)
   if io.type(f) ~= 'file' then
      error('<torch.isatty> expects an open Lua file handle, got ' .. type(f), 2)
   end
   return C.isatty(C.fileno(ffi.cast('void *', f))) == 1
end

-- true when both are the same table or the same Torch object
function torch.isequal(a, b)
   local ta, tb = type(a), type(b)
   if (ta == 'table' or ta == 'userdata') and (tb == 'table' or tb == 'userdata') then
      return rawequal(a, b)
   end
   return false
end

local function isRuntimeObject(obj)
   return type(obj) == 'userdata' and torch._fields[obj] ~= nil
end

function torch.getenv(obj)
   local t = type(obj)
   if t ~= 'function' and t ~= 'userdata' then
      error('<torch.getenv> expects a function or a userdata, got ' .. t, 2)
   end
   return debug.getfenv(obj)
end

function torch.setenv(obj, env)
   local t = type(obj)
   if (t ~= 'function' and t ~= 'userdata') or type(env) ~= 'table' then
      error('<torch.setenv> expects (function or userdata, table), got (' .. t .. ', ' .. type(env) .. ')', 2)
   end
   -- a tensor's or storage's environment holds its fields (docs/design-tensor.md)
   if isRuntimeObject(obj) then
      error('<torch.setenv> cannot replace the environment of a ' .. torch.typename(obj) ..
            ': it holds the object\'s fields in sparktorch7', 2)
   end
   debug.setfenv(obj, env)
end

-- the __version field of an object's class, or nil
function torch.version(obj)
   local mt = getmetatable(obj)
   if type(mt) ~= 'table' then return nil end
   return rawget(mt, '__version')
end

-- luaT's newmetatable(name, parentName): a class made as torch.class makes one (luaT's C
-- constructor and destructor arguments have no Lua counterpart: give the class an __init)
function torch.newmetatable(name, parentName)
   if type(name) ~= 'string' then
      error('<torch.newmetatable> expects a class name, got ' .. type(name), 2)
   end
   local existing = torch.getmetatable(name)
   if existing then return existing end
   if parentName then torch.class(name, parentName) else torch.class(name) end
   return torch.getmetatable(name)
end

-- Torch7 routes TH's C errors to Lua here; sparktorch7's runtime raises Lua errors directly.
function torch.updateerrorhandlers() end

return torch
