-- The Torch7-compatible runtime of sparktorch7: `require 'torch'`.
-- Tensors and storages live in memory shared with numpy (see docs/design-tensor.md).
local ffi = require 'ffi'

torch = torch or {}
local torch = torch
torch._VERSION = "sparktorch7"
-- Torch7 gives Lua 5.1 the 5.2 name of unpack
if not table.unpack then table.unpack = unpack end

ffi.cdef [[
void *calloc(size_t nmemb, size_t size);
void *malloc(size_t size);
void free(void *ptr);
void *memcpy(void *dest, const void *src, size_t n);
void *memmove(void *dest, const void *src, size_t n);
void *memset(void *s, int c, size_t n);
]]

-- One record per CPU tensor type; `code` is the numpy bridge's dtype code.
local types = {
  {name = "Double", ctype = "double",  code = 1, integral = false},
  {name = "Float",  ctype = "float",   code = 2, integral = false},
  {name = "Long",   ctype = "int64_t", code = 3, integral = true},
  {name = "Int",    ctype = "int32_t", code = 4, integral = true},
  {name = "Short",  ctype = "int16_t", code = 5, integral = true},
  {name = "Char",   ctype = "int8_t",  code = 6, integral = true},
  {name = "Byte",   ctype = "uint8_t", code = 7, integral = true},
  -- torch.HalfTensor is a class of its own (scripts add methods to it), whose elements are
  -- single-precision floats in memory: it computes as Float, reads and writes Torch7's
  -- 2-byte halves in .t7 files, and crosses to numpy as float32 (docs/design-tensor.md).
  {name = "Half",   ctype = "float",   code = 2, integral = false, half = true},
}
for _, rec in ipairs(types) do
  rec.tname = "torch." .. rec.name .. "Tensor"
  rec.sname = "torch." .. rec.name .. "Storage"
  rec.ptr = ffi.typeof(rec.ctype .. "*")
  rec.cptr = ffi.typeof("const " .. rec.ctype .. "*")
  rec.size = ffi.sizeof(rec.ctype)
  rec.long = rec.ctype == "int64_t"
  types[rec.name] = rec
  types[rec.code] = types[rec.code] or rec
end
torch._types = types

-- Tensors and storages are userdata, as in Torch7 (so type(t) is "userdata" and #t works).
-- An object's fields (docs/design-tensor.md) are a table kept as its environment, so they
-- live exactly as long as it does; torch._fields maps object -> fields for fast access and
-- holds neither (a weak-keyed table alone would keep a dead tensor's storage for one more
-- collection per link of the chain tensor -> storage -> owner).
local F = setmetatable({}, {__mode = "kv"})
torch._fields = F
-- Objects the numpy bridge made whose fields nothing has written since (each write through
-- __newindex, or torch._setFields, drops the entry): tensor -> its storage, storage -> the
-- Python reference to its array. The bridge then knows such a tensor still views exactly
-- its array without reading the fields.
local P = setmetatable({}, {__mode = "kv"})
torch._pristine = P
local newobject = debug.getregistry()["sparktorch7.newobject"]
if newobject == nil then       -- outside sparktorch7's LuaState: the same with newproxy
  local protos = setmetatable({}, {__mode = "k"})
  local setfenv = debug.setfenv
  newobject = function(mt, fields)
    local proto = protos[mt]
    if proto == nil then error("<torch> not an object metatable", 2) end
    local u = newproxy(proto)
    setfenv(u, fields)
    return u
  end
  -- a metatable new objects can share (newproxy's rule: made by newproxy(true))
  function torch._objectMetatable()
    local proto = newproxy(true)
    local mt = getmetatable(proto)
    protos[mt] = proto
    return mt
  end
else
  function torch._objectMetatable() return {} end
end
-- a new tensor or storage of metatable mt with these fields
function torch._newObject(mt, fields)
  local u = newobject(mt, fields)
  F[u] = fields
  return u
end
-- replace the fields of tensor or storage u
function torch._setFields(u, fields)
  debug.setfenv(u, fields)
  F[u] = fields
  P[u] = nil
end

-- Memory: malloc'd blocks freed by the GC. Lua does not see these bytes, so
-- after enough of them were allocated a full collection reclaims dead ones.
local allocated_since_gc = 0
local GC_BYTES = 256 * 1024 * 1024
function torch._account(bytes)
  allocated_since_gc = allocated_since_gc + bytes
  if allocated_since_gc > GC_BYTES then
    allocated_since_gc = 0
    collectgarbage("collect")
  end
end

-- An allocation that cannot be satisfied says "not enough memory", as Lua's own memory
-- errors do (and Torch7's THAlloc), in an error of kind 'memory': LuaMemoryError in Python.
local function bytes_text(b)
  local units, i = {"bytes", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB", "ZiB", "YiB"}, 1
  while b >= 1024 and i < #units do b, i = b / 1024, i + 1 end
  return i == 1 and string.format("%d bytes", b) or string.format("%.1f %s", b, units[i])
end
function torch._noMemory(sname, n, esize)
  torch._error(string.format("<%s> not enough memory: cannot allocate %.0f elements of %d bytes (%s)",
                             sname, n, esize, bytes_text(n * esize)), 'memory')
end

function torch._alloc(rec, n)
  local bytes = (n > 0 and n or 1) * rec.size
  torch._account(bytes)
  local p = ffi.C.calloc(1, bytes)
  if p == nil then
    collectgarbage("collect")
    p = ffi.C.calloc(1, bytes)
    if p == nil then torch._noMemory(rec.sname, n, rec.size) end
  end
  local owner = ffi.gc(ffi.cast("uint8_t*", p), ffi.C.free)
  return ffi.cast(rec.ptr, p), owner
end

-- Torch7 loads paths with torch, so scripts use it without requiring it
paths = paths or require 'paths'

-- A size argument as Torch7 reads one (luaL_checklong: truncated toward zero), or nil when
-- it is not a finite number >= 0 after truncation.
function torch._truncateSize(v)
  if type(v) ~= "number" or v ~= v or v == math.huge or v == -math.huge then return nil end
  if v >= 0 then v = math.floor(v) else v = math.ceil(v) end
  if v < 0 then return nil end
  return v
end

require 'torch.class'
require 'torch.Storage'
require 'torch.Tensor'
if py then torch._np = require 'torch.numpy' end

-- Default tensor type
function torch.setdefaulttensortype(name)
  local rec
  for _, r in ipairs(types) do
    if r.tname == name then rec = r end
  end
  if not rec then
    error("<torch.setdefaulttensortype> expects a tensor type name such as 'torch.FloatTensor', got " .. tostring(name), 2)
  end
  torch.Tensor = rec.Tensor
  torch.Storage = rec.Storage
  torch._defaultrec = rec
end
function torch.getdefaulttensortype()
  return torch._defaultrec.tname
end
torch.setdefaulttensortype("torch.DoubleTensor")

-- CUDA names map to their CPU twins, so code and files mentioning them run on the CPU.
local cuda_twins = {
  Cuda = "Float", CudaDouble = "Double", CudaLong = "Long", CudaInt = "Int",
  CudaShort = "Short", CudaChar = "Char", CudaByte = "Byte", CudaHalf = "Float",
}
torch._cuda_twins = cuda_twins
for cname, cpu in pairs(cuda_twins) do
  local rec = types[cpu]
  torch[cname .. "Tensor"] = rec.Tensor
  torch[cname .. "Storage"] = rec.Storage
  torch._metatables["torch." .. cname .. "Tensor"] = rec.Tensor_mt
  torch._metatables["torch." .. cname .. "Storage"] = rec.Storage_mt
end

-- Torch7's heap tracking made the GC see malloc'd tensor memory; here torch._account
-- always does that, so this only keeps the switch (torch._heaptracking, a boolean as in
-- Torch7) for scripts that set and read it.
torch._heaptracking = false
function torch.setheaptracking(on) torch._heaptracking = on and true or false end

-- the rest of the runtime, each part in its own file
require 'torch.TensorMath'
require 'torch.File'
require 'torch.DiskFile'
require 'torch.MemoryFile'
require 'torch.PipeFile'
require 'torch.serialization'
require 'torch.Tester'
require 'torch.TestSuite'
require 'torch.CmdLine'
require 'torch.Timer'
require 'torch.tds'
require 'torch.utils'

return torch
