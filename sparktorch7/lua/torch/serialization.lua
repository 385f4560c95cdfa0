-- The Torch7 object format: File:readObject/writeObject, torch.save/load/serialize/deserialize.
--
-- Layout of one object (binary: little-endian int32/double/int64; ASCII: the same values
-- as text, one write per line): an int32 type tag, then
--   0 nil | 1 number: double | 2 string: int32 length, bytes | 5 boolean: int32 (1 = true)
--   3 table: int32 index, int32 pair count, key/value objects
--   4 torch object: int32 index, string "V <version>" (absent in pre-versioning files),
--     string class name, then the class's own read/write data (by default one table object)
--   6 function (old): int32 length, bytecode, upvalue list
--   7/8 function: int32 index, int32 length, bytecode, upvalue list ({name=, value=} in 8)
-- Indexes memoize objects, so shared and cyclic references survive a round trip.
--
-- Use:
--   torch.save(path, obj [, 'binary'|'ascii'|'b32'|'b64' [, referenced]])
--   obj = torch.load(path [, mode [, referenced | options]])
--   s = torch.serialize(obj [, mode]);  obj = torch.deserialize(s [, mode [, options]])
-- mode nil on load: ASCII or binary is detected, and a binary file that does not parse with
-- 8-byte longs is tried with 4-byte ones ('b32', files of 32-bit/Windows Torch7). options:
--   {allow_functions = true}     load stored Lua functions (see Security below)
--   {unknown_classes = 'table'}  an object of an undefined class loads as a table whose
--                                metatable names it (torch.typename works), instead of an error
--   {referenced = false}         Torch7's `referenced` flag
-- CUDA classes load as their CPU twins (torch.CudaTensor -> torch.FloatTensor, CudaHalf
-- widened to Float), tds.Hash/tds.Vec as plain tables. A truncated or corrupt file raises
-- an error of kind 't7format' (sparktorch7.errors) that names the byte offset; sizes read
-- from a file are checked against the bytes left before anything is allocated.
--
-- Security: a function stored in a file is bytecode, and bytecode that LuaJIT loads is not
-- verified. It is never loaded unless the caller opts in (allow_functions=true); without it a
-- function loads as an inert torch.SerializedFunction that keeps the bytes and cannot run.
-- Every tensor read is checked with torch._viewProblem (integers of at most 2^53, every viewed
-- element inside its storage), the rule the FFI loops and the numpy bridge apply at each call.
-- Classes with native state are never filled from a file's fields (NATIVE_READERS): file
-- objects are refused, a torch.Generator is rebuilt from a checked state. A loaded module
-- graph may not contain itself (M.checkModuleGraph). A file of another format (PyTorch zip or
-- pickle, HDF5, NumPy, gzip) is named as such.
local ffi = require('ffi')
local bit = require('bit')
local errors = require('sparktorch7.errors')
require('torch.File')
require('torch.DiskFile')
require('torch.MemoryFile')
require('torch.PipeFile')       -- not in init.lua's list of optional parts
local tds = require('torch.tds')

local M = {}

local File = torch.getmetatable('torch.File')

-- key order to write a table in (tables built from Python keep the dict's order, so that
-- save_t7 writes the same bytes every time; other tables are written in pairs() order)
local keyOrder = setmetatable({}, {__mode = 'k'})
M.keyOrder = keyOrder

local function orderedPairs(t)
   local order = keyOrder[t]
   if not order then return pairs(t) end
   local i = 0
   return function()
      while true do
         i = i + 1
         local k = order[i]
         if k == nil then return nil end
         local v = rawget(t, k)
         if v ~= nil then return k, v end
      end
   end
end

local TYPE_NIL, TYPE_NUMBER, TYPE_STRING, TYPE_TABLE = 0, 1, 2, 3
local TYPE_TORCH, TYPE_BOOLEAN, TYPE_FUNCTION = 4, 5, 6
local TYPE_LEGACY_RECUR_FUNCTION, TYPE_RECUR_FUNCTION = 7, 8

local MAX_DEPTH = 2000     -- nesting of objects in a file (deeper overflows the Lua stack)
local MAX_DIMS = 64        -- dimensions of a tensor (numpy's limit too)

M.MAX_DEPTH = MAX_DEPTH

-- ------------------------------------------------------------------ class names
-- Storage and tensor classes of a file -> CPU element type; CUDA types load as their CPU twin.
local STORAGES, TENSORS = {}, {}
do
   local cpu = {'Double', 'Float', 'Long', 'Int', 'Short', 'Char', 'Byte'}
   for _, t in ipairs(cpu) do
      STORAGES['torch.' .. t .. 'Storage'] = {name = t}
      TENSORS['torch.' .. t .. 'Tensor'] = {name = t}
   end
   STORAGES['torch.CudaStorage'] = {name = 'Float'}
   TENSORS['torch.CudaTensor'] = {name = 'Float'}
   for _, t in ipairs(cpu) do
      if t ~= 'Float' then
         STORAGES['torch.Cuda' .. t .. 'Storage'] = {name = t}
         TENSORS['torch.Cuda' .. t .. 'Tensor'] = {name = t}
      end
   end
   -- 2-byte half floats: the CPU HalfStorage of late Torch7 loads as a HalfTensor (float
   -- elements in memory), cutorch's CudaHalf as Float, like the other CUDA types
   STORAGES['torch.HalfStorage'] = {name = 'Half', half = true}
   TENSORS['torch.HalfTensor'] = {name = 'Half', half = true}
   STORAGES['torch.CudaHalfStorage'] = {name = 'Float', half = true}
   TENSORS['torch.CudaHalfTensor'] = {name = 'Float', half = true}
end
M.STORAGES, M.TENSORS = STORAGES, TENSORS

local function typeRecord(name)
   local rec = torch._types and torch._types[name]
   if not rec then
      error(string.format('<torch.load> the tensor runtime has no %s type (torch._types.%s is missing)', name, name), 0)
   end
   return rec
end

-- ------------------------------------------------------------------ raw objects
-- An object of a class this runtime does not define (or any class, in raw mode) read as a
-- plain table whose metatable names the class; it is written back under the same name.
local rawMetatables = {}
local function rawMetatable(className, version)
   local key = className .. '\0' .. tostring(version)
   local mt = rawMetatables[key]
   if not mt then
      mt = {__typename = className, __version = version, __t7raw = true}
      rawMetatables[key] = mt
   end
   return mt
end
M.rawMetatable = rawMetatable

function M.rawObject(className, fields, version)
   return setmetatable(fields or {}, rawMetatable(className, version or 1))
end

function M.isRaw(obj)
   local mt = type(obj) == 'table' and getmetatable(obj)
   return mt and rawget(mt, '__t7raw') == true or false
end

-- ------------------------------------------------------------------ inert functions
local SerializedFunction = torch.class('torch.SerializedFunction')
M.SerializedFunction = SerializedFunction

local function notCallable(self)
   error('this Lua function was read from a .t7 file and is inert: stored functions are bytecode that ' ..
      'is never run unless you opt in, with torch.load(path, mode, {allow_functions=true}) ' ..
      '(or sparktorch7.load_t7(..., allow_functions=True)), or with fn:toFunction(), ' ..
      'only for files you trust', 2)
end
SerializedFunction.__call = notCallable

function SerializedFunction:__tostring__()
   return string.format('torch.SerializedFunction (inert: %d bytes of bytecode, not loaded)',
      #(rawget(self, 'bytecode') or ''))
end

-- Turn an inert function into a real one (loads its bytecode: only for trusted files).
function SerializedFunction:toFunction()
   local func, err = loadstring(self.bytecode)
   if not func then
      error(string.format('cannot load the function stored in the file: %s (the bytecode was written by ' ..
         'another Lua or LuaJIT version?)', tostring(err)), 2)
   end
   for i, up in ipairs(self.upvalues or {}) do
      local v = up
      if self.tag == TYPE_RECUR_FUNCTION then v = type(up) == 'table' and up.value or nil end
      if torch.typename(v) == 'torch.SerializedFunction' then v = v:toFunction() end
      debug.setupvalue(func, i, v)
   end
   return func
end

-- ------------------------------------------------------------------ half floats
local half = require('torch.half')
local halfToFloat, floatToHalf = half.toFloat, half.fromFloat
M.halfToFloat, M.floatToHalf = halfToFloat, floatToHalf

-- ------------------------------------------------------------------ storages and tensors
local function readStorage(file, rec, half)
   local offset = file:_tell()
   local n = file:readLong()
   if n == nil then return nil end
   if n < 0 or n ~= math.floor(n) then
      file:_formatError(string.format('invalid storage size %s', tostring(n)), offset)
   end
   local esize = half and 2 or ffi.sizeof(rec.ctype)
   if rec.name == 'Long' and file._longSize == 4 then esize = 4 end
   local need = file._binary and n * esize or n
   if need > file:_remaining() then
      file:_formatError(string.format('truncated data: a %s of %d elements needs %d bytes, %d left',
         rec.sname, n, need, file:_remaining()), offset)
   end
   local storage = rec.Storage(n)
   if half and not file._binary then                   -- ASCII files hold halves as numbers
      local f = torch.FloatStorage(n)
      file:readFloat(f)
      ffi.copy(storage:data(), f:data(), 4 * n)
   elseif half then
      local raw = torch.ShortStorage(n)
      file:readShort(raw)
      local src, dst = ffi.cast('uint16_t*', raw:data()), storage:data()
      for i = 0, n - 1 do dst[i] = halfToFloat(src[i]) end
   else
      file['read' .. rec.name](file, storage)
   end
   return storage
end

local function newTensor(rec, storage, offset, size, stride)
   if torch._newTensor then
      return torch._newTensor(rec, storage, offset, size, stride)
   end
   local t = rec.Tensor()
   t._storage, t._offset, t._size, t._stride, t._dim = storage, offset, size, stride, #size
   return t
end

-- a number read from the file that must be an integer of magnitude <= 2^53 (exact in a
-- double; an int64 beyond that would silently round)
local EXACT = 2 ^ 53
local function exactInt(v)
   return v == v and v == math.floor(v) and v >= -EXACT and v <= EXACT
end

local function readTensor(file, rec, className)
   local start = file:_tell()
   local ndim = file:readInt()
   if ndim == nil then return nil end
   if ndim < 0 or ndim > MAX_DIMS then
      file:_formatError(string.format('invalid number of dimensions %d for a %s (expected 0..%d)',
         ndim, className, MAX_DIMS), start)
   end
   local size, stride = {}, {}
   local empty = ndim == 0
   for i = 1, ndim do
      local pos = file:_tell()
      local v = file:readLong()
      if v == nil then return nil end
      if not exactInt(v) or v < 0 then
         file:_formatError(string.format('invalid size %s in dimension %d of a %s (expected an integer in ' ..
            '0..2^53)', tostring(v), i, className), pos)
      end
      size[i] = v
      if v == 0 then empty = true end
   end
   for i = 1, ndim do
      local pos = file:_tell()
      local v = file:readLong()
      if v == nil then return nil end
      if not exactInt(v) then
         file:_formatError(string.format('invalid stride %s in dimension %d of a %s (expected an integer of ' ..
            'magnitude <= 2^53)', tostring(v), i, className), pos)
      end
      stride[i] = v
   end
   local opos = file:_tell()
   local offset = file:readLong()
   if offset == nil then return nil end
   if not exactInt(offset) or offset < 1 then
      file:_formatError(string.format('invalid storage offset %s of a %s (offsets start at 1)',
         tostring(offset), className), opos)
   end
   offset = offset - 1
   local spos = file:_tell()
   local storage = file:readObject()
   if storage == nil then
      storage = rec.Storage(0)
      if not empty then
         file:_formatError(string.format('a %s of sizes {%s} has no storage', className,
            table.concat(size, ',')), spos)
      end
   elseif torch.typename(storage) ~= rec.sname then
      file:_formatError(string.format('a %s needs a %s, got a %s', className, rec.sname,
         torch.typename(storage) or type(storage)), spos)
   end
   -- the one rule of the runtime (torch._viewProblem): every element viewed lies in the storage
   local why = torch._viewProblem(storage:size(), offset, size, stride, ndim)
   if why then
      file:_formatError(string.format('a %s of sizes {%s} and strides {%s} at storage offset %d is invalid: %s',
         className, table.concat(size, ','), table.concat(stride, ','), offset + 1, why), start)
   end
   return newTensor(rec, storage, offset, size, stride)
end

local function recOf(x)
   local f = torch._getrec or torch._typeof
   return f(x)
end

local function writeStorage(storage, file)
   local rec = recOf(storage)
   local n = storage:size()
   file:writeLong(n)
   if rec.half and file._binary then                   -- Torch7's 2-byte halves
      local raw = torch.ShortStorage(n)
      local src, dst = storage:data(), ffi.cast('uint16_t*', raw:data())
      for i = 0, n - 1 do dst[i] = floatToHalf(src[i]) end
      file:writeShort(raw)
   elseif rec.half then                                -- ASCII: halves as numbers
      local f = torch.FloatStorage(n)
      ffi.copy(f:data(), storage:data(), 4 * n)
      file:writeFloat(f)
   else
      file['write' .. rec.name](file, storage)
   end
end

local function writeTensor(t, file)
   -- the layout of docs/design-tensor.md: _dim, _size, _stride, _offset (0-based), _storage
   local rec = recOf(t)
   local ndim = t._dim
   file:writeInt(ndim)
   if ndim > 0 then
      local size, stride = torch.LongStorage(ndim), torch.LongStorage(ndim)
      for i = 1, ndim do
         size[i] = t._size[i]
         stride[i] = t._stride[i]
      end
      file:writeLong(size)
      file:writeLong(stride)
   end
   file:writeLong(t._offset + 1)
   file:writeObject(t._storage)
end

-- the read/write hooks of every CPU storage and tensor class
local function installHooks()
   for _, rec in ipairs(torch._types or {}) do
      local smt = torch.getmetatable(rec.sname)
      local tmt = torch.getmetatable(rec.tname)
      if smt and rawget(smt, 'write') == nil then
         smt.write = writeStorage
         smt.read = function(self, file)
            local s = readStorage(file, rec, false)
            if s then M._adopt(self, s) end
         end
      end
      if tmt and rawget(tmt, 'write') == nil then
         tmt.write = writeTensor
         tmt.read = function(self, file)
            local t = readTensor(file, rec, rec.tname)
            if t then M._adopt(self, t) end
         end
      end
   end
end
M.installHooks = installHooks

-- copy the fields of a freshly built object into an existing one (read hooks fill `self`)
function M._adopt(dst, src)
   local F = torch._fields
   local fields = F and F[src]
   if fields then                        -- a tensor or storage: its fields, copied
      local copy = {}
      for k, v in pairs(fields) do copy[k] = v end
      torch._setFields(dst, copy)
      return
   end
   for k, v in pairs(src) do rawset(dst, k, v) end
end

-- ------------------------------------------------------------------ options
-- file:serializationOptions{allow_functions=, unknown_classes='error'|'table', raw=}
--   allow_functions  load stored Lua functions (bytecode) and run them when called;
--                    otherwise they load as inert torch.SerializedFunction objects
--   unknown_classes  'table': an object of an undefined class loads as a plain table whose
--                    metatable names the class (torch.typename works); 'error' (default) fails
--   raw              every class except storages, tensors and tds loads that way
function File:serializationOptions(opts)
   if opts ~= nil and type(opts) ~= 'table' then
      error(string.format('<%s> serializationOptions expects a table, got %s', torch.typename(self), type(opts)), 2)
   end
   opts = opts or {}
   local u = opts.unknown_classes
   if u ~= nil and u ~= 'error' and u ~= 'table' then
      error(string.format("<%s> unknown_classes must be 'error' or 'table', got %s", torch.typename(self), tostring(u)), 2)
   end
   self._opts = {
      allow_functions = opts.allow_functions == true,
      unknown_classes = u or 'error',
      raw = opts.raw == true,
   }
   return self
end

local findFactory, NATIVE_READERS
local defaultOptions = {allow_functions = false, unknown_classes = 'error', raw = false}

-- ------------------------------------------------------------------ memo
local function env(file)
   local e = file._serial
   if not e then
      e = {readObjects = {}, writeObjects = {}, nWrite = 0, depth = 0, names = {}}
      file._serial = e
   end
   return e
end

-- referenced(false): every object is written/read in full, with no memo (Torch7's `force`)
function File:referenced(ref)
   self._refs = self._refs or {}
   self._refs.force = not ref
   return self
end

function File:isReferenced()
   return not (self._refs and self._refs.force)
end

-- ------------------------------------------------------------------ reading
local function checkIndex(file, index, pos)
   if index == nil then return false end
   if index < 0 or index ~= math.floor(index) then
      file:_formatError(string.format('invalid object index %s', tostring(index)), pos)
   end
   return true
end

local function readFunction(file, tag, e, force, opts, pos)
   local index
   if tag ~= TYPE_FUNCTION then
      local ipos = file:_tell()
      index = file:readInt()
      if not checkIndex(file, index, ipos) then return nil end
      local seen = e.readObjects[index]
      if seen ~= nil and not force then return seen end
   end
   local lpos = file:_tell()
   local size = file:readInt()
   if size == nil then return nil end
   if size < 0 or size > file:_remaining() then
      file:_formatError(string.format('invalid function bytecode length %d (%d bytes left)', size, file:_remaining()), lpos)
   end
   local bytecode = file:_readRawString(size)
   if not opts.allow_functions then
      local obj = setmetatable({}, SerializedFunction)
      obj.bytecode, obj.tag = bytecode, tag
      if index and not force then e.readObjects[index] = obj end
      obj.upvalues = file:readObject()
      return obj
   end
   local func, err = loadstring(bytecode)
   if not func then
      error(string.format('cannot load the Lua function stored at byte offset %d of %s: %s (its bytecode was ' ..
         'written by another Lua or LuaJIT version; Torch7 files usually hold LuaJIT 2.0 bytecode, which ' ..
         'LuaJIT 2.1 does not load)', pos, file._name, tostring(err)), 0)
   end
   if index and not force then e.readObjects[index] = func end
   local upos = file:_tell()
   local upvalues = file:readObject()
   if upvalues ~= nil and type(upvalues) ~= 'table' then
      file:_formatError('the upvalues of a function are not a table', upos)
   end
   for i, up in ipairs(upvalues or {}) do
      if tag == TYPE_RECUR_FUNCTION then
         if type(up) ~= 'table' then file:_formatError('an upvalue record is not a table', upos) end
         if up.name ~= '_ENV' then debug.setupvalue(func, i, up.value) end
      else
         debug.setupvalue(func, i, up)
      end
   end
   return func
end

-- ------------------------------------------------------------------ classes of a file
-- The folder of the shipped Lua packages (this file is <lua>/torch/serialization.lua).
local LUA_DIR = (debug.getinfo(1, 'S').source:match('^@(.*)[/\\]torch[/\\][^/\\]+$'))

local ships

-- the package of the runtime that defines a class, when the class prefix names one
local PACKAGE_OF = {['nn.gModule'] = 'nngraph', ['torch.AliasMultinomial'] = 'torchx'}
local function shippedPackage(className)
   local pkg = PACKAGE_OF[className]
   if pkg then return pkg end
   pkg = className:match('^([%w_]+)%.')
   if not pkg or not ships(pkg) then return nil end
   return pkg
end
M.shippedPackage = shippedPackage

function ships(pkg)
   if not LUA_DIR then return false end
   local f = io.open(LUA_DIR .. '/' .. pkg .. '/init.lua', 'r')
   if f then f:close() end
   return f ~= nil
end

-- packages whose classes are named nn.* (Element-Research rnn and dpnn, nnx, nngraph's gModule,
-- stnbhwd's spatial transformer modules)
local NN_EXTENSIONS = {'nngraph', 'rnn', 'dpnn', 'nnx', 'stn'}
-- nn.* names that projects define for classes of their own (torch-rnn's nn.LSTM, many a
-- nn.GRU): reading one never requires rnn, whose classes of that name are another layout
-- (an rnn model holds a Sequencer/Recursor/FastLSTM around them, which requires rnn first)
local PROJECT_NAMES = {['nn.LSTM'] = true, ['nn.GRU'] = true, ['nn.Recurrent'] = true}

-- does the shipped package pkg define the class nn.<short>? (one class per file, named after it)
local function defines(pkg, short)
   if not LUA_DIR or not short:match('^[%w_]+$') then return false end
   local f = io.open(LUA_DIR .. '/' .. pkg .. '/' .. short .. '.lua', 'r')
   if f then f:close() end
   return f ~= nil
end

-- The factory of a class; an unknown class of a package the runtime ships (cudnn.*,
-- nngraph.*, nn.gModule, an nn.* class that rnn/dpnn/nnx define in a file of its name, ...)
-- requires that package first, as the Torch7 user's script did, and tries again. Packages
-- that do not define the class are not loaded (their classes would shadow a project's).
local tried = {}
function findFactory(className)
   local factory = torch.factory(className)
   if factory then return factory end
   local pkg = shippedPackage(className)
   if pkg and not tried[className] then
      tried[className] = true
      pcall(require, pkg)
      if pkg == 'nn' or className:match('^nn%.') then
         if not torch.factory(className) then pcall(require, 'nn') end
         local short = className:match('^nn%.(.+)$')
         for _, ext in ipairs(NN_EXTENSIONS) do
            if torch.factory(className) or PROJECT_NAMES[className] then break end
            if not package.loaded[ext] and defines(ext, short) then pcall(require, ext) end
         end
      end
      tried[className] = nil
      return torch.factory(className)
   end
   return nil
end

-- Classes whose instances hold native state (a C struct in memory) are never filled from
-- a file's field table: each reader checks the fields and builds a fresh instance.
NATIVE_READERS = {}

-- torch.Generator: written by this runtime as {_state = ByteTensor (the MT19937 struct)}
NATIVE_READERS['torch.Generator'] = function(file, className, pos)
   local fpos = file:_tell()
   local var = file:readObject()
   if type(var) ~= 'table' then
      file:_formatError(string.format('the fields of a %s are a %s, not a table', className, type(var)), fpos)
   end
   local state = var._state
   local why = torch._rngStateProblem(state)
   if why then
      file:_formatError(string.format('invalid %s: its _state: %s', className, why), pos)
   end
   local g = torch.Generator()
   g._state:copy(state)          -- the generator's own memory, not the file's storage
   return g
end

local function readTorch(file, e, force, opts)
   local pos = file:_tell()
   local index = file:readInt()
   if not checkIndex(file, index, pos) then return nil end
   local seen = e.readObjects[index]
   if seen ~= nil and not force then return seen end
   local vpos = file:_tell()
   local vlen = file:readInt()
   if vlen == nil then return nil end
   if vlen < 0 or vlen > file:_remaining() then
      file:_formatError(string.format('invalid class name length %d', vlen), vpos)
   end
   local version = file:_readRawString(vlen)
   local versionNumber = tonumber(version:match('^V (.*)$'))
   local className
   if versionNumber then
      local cpos = file:_tell()
      local clen = file:readInt()
      if clen == nil then return nil end
      if clen < 0 or clen > file:_remaining() then
         file:_formatError(string.format('invalid class name length %d', clen), cpos)
      end
      className = file:_readRawString(clen)
   else
      className = version        -- written before the versioning of classes
      versionNumber = 0
   end
   if not className:match('^[%w%p]+$') then
      file:_formatError(string.format('invalid class name %q', className:sub(1, 60)), vpos)
   end

   local s = STORAGES[className]
   if s then
      local rec = typeRecord(s.name)
      local storage = readStorage(file, rec, s.half)
      if storage and not force then e.readObjects[index] = storage end
      return storage
   end
   local t = TENSORS[className]
   if t then
      local tensor = readTensor(file, typeRecord(t.name), className)
      if tensor and not force then e.readObjects[index] = tensor end
      return tensor
   end
   if tds.classes[className] then
      return tds.read(file, className, index, e.readObjects, force)
   end

   local object
   local factory = not opts.raw and findFactory(className)
   if factory and NATIVE_READERS[className] then
      -- a class whose instances hold native state: rebuilt through its constructor
      local obj = NATIVE_READERS[className](file, className, pos)
      if not force then e.readObjects[index] = obj end
      return obj
   end
   if factory then
      object = factory(file)
      if torch.isTypeOf(object, 'torch.File') then
         file:_formatError(string.format('a %s object cannot be loaded from a file (it would wrap an open OS ' ..
            'file, pipe or memory buffer, which no .t7 file can hold: Torch7 never writes one)', className), pos)
      end
   elseif opts.raw or opts.unknown_classes == 'table' then
      object = M.rawObject(className, {}, versionNumber)
   else
      error(string.format('unknown Torch class <%s> at byte offset %d of %s: define it before loading, with ' ..
         "torch.class('%s') (or require the package that defines it), or put the project's Lua folder " ..
         "on lua_path (LuaState(lua_path=[...])); or load with {unknown_classes='table'} to get plain tables",
         className, pos, file._name, className), 0)
   end
   if not force then e.readObjects[index] = object end
   local mt = (not M.isRaw(object)) and torch.getmetatable(className)
   local read = mt and (rawget(mt, '__read') or mt.read)
   if type(read) == 'function' then
      read(object, file, versionNumber)
   elseif type(object) == 'table' then
      local fpos = file:_tell()
      local var = file:readObject()
      if type(var) ~= 'table' then
         file:_formatError(string.format('the fields of a %s are a %s, not a table', className, type(var)), fpos)
      end
      for k, v in pairs(var) do object[k] = v end
   else
      error(string.format('cannot load an object of class <%s>', className), 0)
   end
   return object
end

local function readTable(file, e, force)
   local ipos = file:_tell()
   local index = file:readInt()
   if not checkIndex(file, index, ipos) then return nil end
   local seen = e.readObjects[index]
   if seen ~= nil and not force then return seen end
   local spos = file:_tell()
   local size = file:readInt()
   if size == nil then return nil end
   -- each pair takes at least two type tags
   if size < 0 or size * (file._binary and 8 or 4) > file:_remaining() then
      file:_formatError(string.format('invalid table size %d (%d bytes left)', size, file:_remaining()), spos)
   end
   local object = {}
   if not force then e.readObjects[index] = object end
   for _ = 1, size do
      local kpos = file:_tell()
      local k = file:readObject()
      local v = file:readObject()
      if k == nil or k ~= k then
         file:_formatError(string.format('invalid table key (%s)', tostring(k)), kpos)
      end
      object[k] = v
   end
   return object
end

function File:readObject()
   self:_checkReadable()
   local e = env(self)
   local opts = self._opts or defaultOptions
   local force = self._refs and self._refs.force
   local pos = self:_tell()
   local tag = self:readInt()
   if tag == nil or tag == TYPE_NIL then return nil end
   if tag == TYPE_NUMBER then
      return self:readDouble()
   elseif tag == TYPE_BOOLEAN then
      return self:readInt() == 1
   elseif tag == TYPE_STRING then
      local lpos = self:_tell()
      local size = self:readInt()
      if size == nil then return nil end
      if size < 0 or size > self:_remaining() then
         self:_formatError(string.format('invalid string length %d (%d bytes left)', size, self:_remaining()), lpos)
      end
      return self:_readRawString(size)
   end
   if tag ~= TYPE_TABLE and tag ~= TYPE_TORCH and tag ~= TYPE_FUNCTION and
      tag ~= TYPE_RECUR_FUNCTION and tag ~= TYPE_LEGACY_RECUR_FUNCTION then
      self:_formatError(string.format('unknown object type tag %d (expected 0 to 8)', tag), pos)
   end
   if e.depth >= MAX_DEPTH then
      self:_formatError(string.format('objects nested deeper than %d levels', MAX_DEPTH), pos)
   end
   e.depth = e.depth + 1
   local result
   if tag == TYPE_TORCH then
      result = readTorch(self, e, force, opts)
   elseif tag == TYPE_TABLE then
      result = readTable(self, e, force)
   else
      result = readFunction(self, tag, e, force, opts, pos)
   end
   e.depth = e.depth - 1
   return result
end

-- ------------------------------------------------------------------ writing
-- The path of the value being written, as Torch7 prints it: '<?>' for an unnamed level
-- (the root, table keys), field names, and a function's upvalue by its name; the marker
-- of an upvalue list and the list index after it are left out
-- ('<?>.outer.theinner.baz.torch' is upvalue torch of function outer.theinner.baz).
local UPVALUES = {}
local function pathName(names)
   local parts = {}
   for i, n in ipairs(names) do
      if n ~= UPVALUES and names[i - 1] ~= UPVALUES then parts[#parts + 1] = tostring(n) end
   end
   return table.concat(parts, '.')
end

-- the debug name of field k of table t (whose own name is names[#names])
local function fieldName(names, t, k)
   local name = (type(k) == 'string' or type(k) == 'number') and tostring(k) or nil
   if name == 'value' and names[#names - 1] == UPVALUES and type(t.name) == 'string' then
      return t.name
   end
   return name
end

local function typeOfWritable(obj)
   local tn = torch.typename(obj)
   -- an instance of a class (its own metatable is the class's), not a class constructor
   -- table such as torch.FloatTensor, whose __metatable names the class too
   if tn and (M.isRaw(obj) or (torch.getmetatable(tn) ~= nil
                                and debug.getmetatable(obj) == torch.getmetatable(tn))) then
      return TYPE_TORCH
   end
   local t = type(obj)
   if t == 'table' then return TYPE_TABLE end
   if t == 'number' then return TYPE_NUMBER end
   if t == 'string' then return TYPE_STRING end
   if t == 'boolean' then return TYPE_BOOLEAN end
   if t == 'function' and pcall(string.dump, obj) then return TYPE_RECUR_FUNCTION end
   return nil
end
M.typeOfWritable = typeOfWritable

local function classVersion(obj)
   local mt = getmetatable(obj)
   local v = mt and rawget(mt, '__version')
   if v == nil and torch.version then
      local ok, tv = pcall(torch.version, obj)
      if ok then v = tv end
   end
   return v or 1
end

-- writeObject(object [, debugname [, hook]]): hook(value), when given, is called on every
-- value written (the object, then each key, value, upvalue and torch object field inside
-- it, except what a class's own write method writes) and what it returns is written in its
-- place; references are still tracked by the original value, so two references to one
-- object become two references to one replacement.
function File:writeObject(object, debugname, hook)
   self:_checkWritable()
   local e = env(self)
   local force = self._refs and self._refs.force
   local original = object
   if hook ~= nil then
      object = hook(object)
      if original == nil or original ~= original then original = object end  -- not a table key
   end
   if object == nil then
      self:writeInt(TYPE_NIL)
      return
   end
   local names = e.names
   names[#names + 1] = debugname or '<?>'
   local tag = typeOfWritable(object)
   if tag == nil then
      local what = type(object) == 'function' and 'a C function' or ('a ' .. type(object) .. ' value')
      local where = pathName(names)
      for i = #names, 1, -1 do names[i] = nil end
      error(string.format('<%s> cannot write %s (at %s): only nil, numbers, strings, booleans, tables, ' ..
         'Lua functions and torch objects can be saved', torch.typename(self), what, where), 2)
   end
   if torch.typename(object) == 'torch.SerializedFunction' then tag = TYPE_RECUR_FUNCTION end
   if tag == TYPE_RECUR_FUNCTION and type(object) == 'table' then
      self:writeInt(object.tag or TYPE_RECUR_FUNCTION)
   else
      self:writeInt(tag)
   end
   if tag == TYPE_NUMBER then
      self:writeDouble(object)
   elseif tag == TYPE_BOOLEAN then
      self:writeInt(object and 1 or 0)
   elseif tag == TYPE_STRING then
      self:writeInt(#object)
      self:writeChar(object)
   else
      local index = e.writeObjects[original]
      if index and not force then
         self:writeInt(index)
      else
         index = e.nWrite + 1
         e.nWrite = index
         if not force then e.writeObjects[original] = index end
         self:writeInt(index)
         if tag == TYPE_RECUR_FUNCTION then
            if type(object) == 'function' then
               local upvalues = {}
               local i = 1
               while true do
                  local name, value = debug.getupvalue(object, i)
                  if not name then break end
                  upvalues[i] = {name = name, value = value}
                  i = i + 1
               end
               local dumped = string.dump(object)
               self:writeInt(#dumped)
               self:writeChar(dumped)
               self:writeObject(upvalues, UPVALUES, hook)
            else
               -- an inert function keeps its bytes and upvalues as read
               if (object.tag or TYPE_RECUR_FUNCTION) == TYPE_FUNCTION then
                  error('<torch.File> cannot write back an inert function of the oldest format (tag 6)', 2)
               end
               self:writeInt(#object.bytecode)
               self:writeChar(object.bytecode)
               self:writeObject(object.upvalues, UPVALUES, hook)
            end
         elseif tag == TYPE_TORCH then
            local className = torch.typename(object)
            if not M.isRaw(object) and torch.isTypeOf(object, 'torch.File') then
               local where = pathName(names)
               for i = #names, 1, -1 do names[i] = nil end
               error(string.format('<torch.File> cannot write a %s (at %s): a file object wraps an open OS ' ..
                  'file, pipe or memory buffer, which cannot be saved (as in Torch7)', className, where), 0)
            end
            local version = 'V ' .. tostring(classVersion(object))
            self:writeInt(#version)
            self:writeChar(version)
            self:writeInt(#className)
            self:writeChar(className)
            local mt = not M.isRaw(object) and torch.getmetatable(className)
            local write = mt and (rawget(mt, '__write') or mt.write)
            if type(write) == 'function' then
               write(object, self)
            else
               local var, order = {}, {}
               for k, v in orderedPairs(object) do
                  if typeOfWritable(v) then
                     var[k] = v
                     order[#order + 1] = k
                  else
                     io.stderr:write(string.format('$ Warning: cannot write object field <%s> of <%s> at %s\n',
                        tostring(k), className, pathName(names)))
                  end
               end
               if keyOrder[object] then keyOrder[var] = order end
               self:writeObject(var, className, hook)
            end
         else
            local size = 0
            for _ in pairs(object) do size = size + 1 end
            self:writeInt(size)
            for k, v in orderedPairs(object) do
               self:writeObject(k, nil, hook)
               self:writeObject(v, fieldName(names, object, k), hook)
            end
         end
      end
   end
   names[#names] = nil
end

-- ------------------------------------------------------------------ save / load
local SAVE_MODES = {binary = true, ascii = true, b32 = true, b64 = true}

local function setMode(file, mode)
   if mode == 'ascii' then
      file:ascii()
   else
      file:binary()
      file:longSize(mode == 'b32' and 4 or 8)
   end
end

-- the third argument: Torch7's `referenced` boolean, or an options table
local function loadOptions(fname, arg)
   if arg == nil or type(arg) == 'boolean' then
      return {referenced = arg ~= false}
   end
   if type(arg) ~= 'table' then
      error(string.format('<%s> third argument must be a boolean (referenced) or an options table, got %s',
         fname, type(arg)), 3)
   end
   local o = {}
   for k, v in pairs(arg) do o[k] = v end
   o.referenced = o.referenced ~= false
   return o
end

function torch.save(filename, object, mode, referenced)
   if mode ~= nil and not SAVE_MODES[mode] then
      error(string.format("<torch.save> mode must be 'binary', 'ascii', 'b32' or 'b64', got %s", tostring(mode)), 2)
   end
   local opts = loadOptions('torch.save', referenced)
   local file = torch.DiskFile(filename, 'w')
   setMode(file, mode or 'binary')
   file:referenced(opts.referenced)
   local ok, err = pcall(file.writeObject, file, object)
   file:close()
   if not ok then error(err, 0) end
end

local function readAll(file, mode, opts)
   setMode(file, mode)
   file._strictEol = true
   file:referenced(opts.referenced)
   file:serializationOptions(opts)
   return file:readObject()
end

-- Guess the encoding of a file when no mode is given: a binary file starts with a small
-- int32 type tag, an ASCII file with a digit and a newline.
local function sniff(file)
   local head = ffi.new('uint8_t[4]')
   local got = file:_rawRead(head, 4)
   file:_seek(0)
   if got >= 2 and head[0] >= 48 and head[0] <= 57 and (head[1] == 10 or head[1] == 13) then
      return 'ascii'
   end
   return 'binary'
end

-- Files of other formats, told by their first bytes (a binary Torch7 file starts with a small
-- int32 type tag, an ASCII one with a digit): what each is and what to do with it.
local FOREIGN = {
   {'PK\3\4', function(head)
      if head:find('%.npy') then
         return 'a NumPy .npz archive (a zip of .npy arrays), not a Torch7 file: read it with numpy.load'
      end
      return 'a zip archive, such as a PyTorch checkpoint (torch.save since PyTorch 1.6 writes a zip), not a ' ..
         'Torch7 file: load it with PyTorch (torch.load), or convert the model to Torch7 with a tool that ' ..
         'writes .t7 files'
   end},
   {'\128\2\138\10\108\252\156\70\249\32\106\168\80\25', 'a legacy PyTorch checkpoint (a pickle ' ..
      'written by torch.save before PyTorch 1.6), not a Torch7 file: load it with PyTorch (torch.load)'},
   {'\137HDF\r\n\26\n', 'an HDF5 file (as Keras .h5 models are), not a Torch7 file: read it with h5py, ' ..
      'or with the framework that wrote it'},
   {'\147NUMPY', 'a NumPy .npy file, not a Torch7 file: read it with numpy.load (and pass the array to ' ..
      'Lua as a tensor)'},
   {'\031\139', 'a gzip-compressed file, not a Torch7 file: decompress it first (gunzip), then load the result'},
}
local function foreignFormat(head)
   for _, f in ipairs(FOREIGN) do
      if head:sub(1, #f[1]) == f[1] then
         return type(f[2]) == 'function' and f[2](head) or f[2]
      end
   end
   -- a Python pickle: the PROTO opcode and a protocol number 2..5
   local b1, b2 = head:byte(1, 2)
   if b1 == 128 and b2 and b2 >= 2 and b2 <= 5 then
      return string.format('a Python pickle (protocol %d), not a Torch7 file: read it with pickle.load in ' ..
         'Python (only from a source you trust); a PyTorch checkpoint loads with torch.load', b2)
   end
   return nil
end
M.foreignFormat = foreignFormat

local function checkForeign(file)
   local n = math.min(512, file:_remaining())
   if n < 2 then return end
   local head = ffi.new('uint8_t[?]', n)
   local got = file:_rawRead(head, n)
   file:_seek(0)
   local what = foreignFormat(ffi.string(head, got))
   if what then errors.raise('t7format', string.format('%s is %s', file._name, what), 0) end
end

-- Load from an open file: mode nil guesses ASCII vs binary and retries a binary file that
-- does not parse with 8-byte longs with 4-byte longs (files from 32-bit or Windows Torch7).
local function loadFrom(file, mode, opts)
   checkForeign(file)
   if mode ~= nil then return readAll(file, mode, opts) end
   mode = sniff(file)
   if mode == 'ascii' then return readAll(file, mode, opts) end
   local ok, obj = pcall(readAll, file, 'binary', opts)
   if ok then return obj end
   -- Only a file that makes no sense with 8-byte longs, without reaching its end, is
   -- tried with 4-byte longs, and that parse must read the whole file (a trailing '\0'
   -- of a serialized storage aside): a truncated 8-byte file must not pass as one.
   if errors.kind(obj) ~= 't7format' or file._eof then error(obj, 0) end
   file._serial = nil
   file:_seek(0)
   local ok32, obj32 = pcall(readAll, file, 'b32', opts)
   local left = file:_remaining()
   if ok32 and not file._eof and left <= 1 then
      local trailing = left == 0 or file:readByte() == 0
      if trailing then return obj32 end
   end
   error(obj, 0)
end

-- ------------------------------------------------------------------ module graphs
-- A container's modules are walked recursively by forward, tostring, type conversions...:
-- a module that contains itself (a forged or corrupt file) would recurse without end, and
-- LuaJIT 2.1 can crash on the stack overflow that follows (a recursive __tostring under
-- xpcall), so a loaded object graph is refused when its modules form a cycle or nest deeper
-- than MAX_MODULE_DEPTH (real models nest a few dozen levels at most).
local MAX_MODULE_DEPTH = 256
M.MAX_MODULE_DEPTH = MAX_MODULE_DEPTH

local function isModule(x)
   return type(x) == 'table' and getmetatable(x) ~= nil and not M.isRaw(x) and torch.isTypeOf(x, 'nn.Module')
end

-- the modules a module holds (its `modules` list, a decorator's `module`)
local function childModules(m)
   local out = {}
   local mods = rawget(m, 'modules')
   if type(mods) == 'table' then
      for _, c in pairs(mods) do
         if isModule(c) then out[#out + 1] = c end
      end
   end
   local one = rawget(m, 'module')
   if isModule(one) then out[#out + 1] = one end
   return out
end

function M.checkModuleGraph(root, name)
   if not (torch.getmetatable('nn.Module')) then return end    -- nn not loaded: no modules
   -- every module reachable from root through tables (a checkpoint holds {model = ...})
   local seen, queue, roots = {}, {root}, {}
   local i = 1
   while queue[i] ~= nil do
      local v = queue[i]
      i = i + 1
      if type(v) == 'table' and not seen[v] then
         seen[v] = true
         if isModule(v) then roots[#roots + 1] = v end
         for k, x in pairs(v) do
            if type(k) == 'table' and not seen[k] then queue[#queue + 1] = k end
            if type(x) == 'table' and not seen[x] then queue[#queue + 1] = x end
         end
      end
   end
   -- depth-first over the module tree, without recursion: 1 = on the current path, 2 = done
   local state = {}
   for _, r in ipairs(roots) do
      if not state[r] then
         local path, kids, next = {r}, {childModules(r)}, {1}
         state[r] = 1
         while #path > 0 do
            local d = #path
            local c = kids[d][next[d]]
            if c == nil then
               state[path[d]] = 2
               path[d], kids[d], next[d] = nil, nil, nil
            else
               next[d] = next[d] + 1
               if state[c] == 1 then
                  errors.raise('t7format', string.format('a %s of %s contains itself (its modules form a ' ..
                     'cycle: the file is forged or corrupt)', torch.typename(c), name), 0)
               elseif state[c] == nil then
                  if d >= MAX_MODULE_DEPTH then
                     errors.raise('t7format', string.format('the modules of %s are nested deeper than %d ' ..
                        'levels (the file is forged or corrupt)', name, MAX_MODULE_DEPTH), 0)
                  end
                  state[c] = 1
                  path[d + 1], kids[d + 1], next[d + 1] = c, childModules(c), 1
               end
            end
         end
      end
   end
end

function torch.load(filename, mode, options)
   if mode ~= nil and not SAVE_MODES[mode] then
      error(string.format("<torch.load> mode must be 'binary', 'ascii', 'b32' or 'b64', got %s", tostring(mode)), 2)
   end
   local opts = loadOptions('torch.load', options)
   local file = torch.DiskFile(filename, 'r')
   local ok, obj = pcall(loadFrom, file, mode, opts)
   file:close()
   if not ok then error(obj, 0) end
   M.checkModuleGraph(obj, filename)
   return obj
end

function torch.serialize(object, mode)
   if mode ~= nil and not SAVE_MODES[mode] then
      error(string.format("<torch.serialize> mode must be 'binary', 'ascii', 'b32' or 'b64', got %s", tostring(mode)), 2)
   end
   local f = torch.MemoryFile('rw')
   setMode(f, mode or 'binary')
   f:writeObject(object)
   local s = f:_string()
   f:close()
   return s
end

function torch.serializeToStorage(object, mode)
   local s = torch.serialize(object, mode)
   local storage = torch.CharStorage(#s)
   ffi.copy(storage:data(), s, #s)
   return storage
end

function torch.deserialize(str, mode, options)
   if type(str) ~= 'string' then
      error(string.format('<torch.deserialize> expects a string, got %s', torch.typename(str) or type(str)), 2)
   end
   if mode ~= nil and not SAVE_MODES[mode] then
      error(string.format("<torch.deserialize> mode must be 'binary', 'ascii', 'b32' or 'b64', got %s", tostring(mode)), 2)
   end
   local opts = loadOptions('torch.deserialize', options)
   local f = torch.MemoryFile('r'):_borrowString(str)
   f._name = '<serialized string>'
   local ok, obj = pcall(loadFrom, f, mode, opts)
   f:close()
   if not ok then error(obj, 0) end
   M.checkModuleGraph(obj, '<serialized string>')
   return obj
end

function torch.deserializeFromStorage(storage, mode, options)
   local f = torch.MemoryFile(storage, 'r')
   local s = f:_string()
   f:close()
   return torch.deserialize(s, mode, options)
end

torch.saveobj = torch.save
torch.loadobj = torch.load

-- ------------------------------------------------------------------ flat graphs (Python side)
-- sparktorch7.t7 moves object graphs between Lua and Python as a flat list of nodes, so that
-- shared and cyclic references survive and no recursion is needed on either side:
--   value  = tag, payload   (1 number, 2 string, 3 boolean, 4 node index)
--   {'t', false, items}             a plain table; items = {ktag, k, vtag, v, ...}
--   {'o', typename, items}          an object of a torch class (its fields)
--   {'s', typename, storage}        a storage (an ndarray in Python)
--   {'T', typename, storage node or 0, offset (0-based), sizes, strides}  a tensor
--   {'F', false, function}          a live Lua function (loaded with allow_functions)
-- and from Python only:
--   {'T', false, tensor}            a tensor of its own (an ndarray copied to contiguous)
--   {'S', false, tensor}            a 1-D tensor whose storage views share
--   {'V', false, S node, offset, sizes, strides}  a view of that storage
local TAG_NUMBER, TAG_STRING, TAG_BOOLEAN, TAG_REF = 1, 2, 3, 4

function M.flatten(root)
   local ids, nodes, queue = {}, {}, {}
   local function enc(v)
      local t = type(v)
      if v == nil then return 0, nil end
      if t == 'number' then return TAG_NUMBER, v end
      if t == 'string' then return TAG_STRING, v end
      if t == 'boolean' then return TAG_BOOLEAN, v end
      if t == 'table' or t == 'function' or (t == 'userdata' and (torch.isTensor(v) or torch.isStorage(v))) then
         local id = ids[v]
         if not id then
            id = #queue + 1
            ids[v] = id
            queue[id] = v
         end
         return TAG_REF, id
      end
      error(string.format('<sparktorch7.load_t7> cannot convert a %s value to Python', t), 0)
   end
   local rtag, rval = enc(root)
   local i = 1
   while queue[i] ~= nil do
      local v = queue[i]
      local node
      if type(v) == 'function' then
         node = {'F', false, v}
      elseif torch._isTensor and torch._isTensor(v) then
         local _, sid = enc(v._storage)
         local size, stride = {}, {}
         for d = 1, v._dim do size[d], stride[d] = v._size[d], v._stride[d] end
         node = {'T', torch.typename(v), sid, v._offset, size, stride}
      elseif torch._isStorage and torch._isStorage(v) then
         node = {'s', torch.typename(v), v}
      else
         local items, n = {}, 0
         for k, x in pairs(v) do
            local kt, kv = enc(k)
            local vt, vv = enc(x)
            items[n + 1], items[n + 2], items[n + 3], items[n + 4] = kt, kv, vt, vv
            n = n + 4
         end
         local tn = torch.typename(v)
         node = tn and {'o', tn, items} or {'t', false, items}
      end
      nodes[i] = node
      i = i + 1
   end
   return rtag, rval, nodes
end

-- the inverse, for values coming from Python (tensors arrive already built from ndarrays)
function M.unflatten(rtag, rval, nodes)
   local objs = {}
   for i, node in ipairs(nodes) do
      local kind = node[1]
      if kind == 't' then
         objs[i] = {}
      elseif kind == 'o' then
         local tn = node[2]
         if STORAGES[tn] or TENSORS[tn] then
            error(string.format('<sparktorch7.save_t7> a TorchObject cannot be a %s: pass an ndarray', tn), 0)
         end
         local mt = torch.getmetatable(tn)
         objs[i] = mt and setmetatable({}, mt) or M.rawObject(tn, {}, 1)
      elseif kind == 'T' then
         objs[i] = node[3]
      elseif kind == 'S' then
         objs[i] = node[3]._storage           -- the storage of the array's tensor
      elseif kind == 'V' then
         -- views are built below, once every storage exists
      else
         error(string.format('<sparktorch7.save_t7> unknown node kind %s', tostring(kind)), 0)
      end
   end
   for i, node in ipairs(nodes) do
      if node[1] == 'V' then
         local storage = objs[node[3]]
         local size, stride = {}, {}
         for d = 1, #node[5] do size[d], stride[d] = node[5][d], node[6][d] end
         objs[i] = newTensor(recOf(storage), storage, node[4], size, stride)
      end
   end
   local function dec(tag, v)
      if tag == TAG_REF then return objs[v] end
      return v
   end
   for i, node in ipairs(nodes) do
      if node[1] == 't' or node[1] == 'o' then
         local obj, items = objs[i], node[3]
         local order = {}
         for j = 1, #items, 4 do
            local k = dec(items[j], items[j + 1])
            rawset(obj, k, dec(items[j + 2], items[j + 3]))
            order[#order + 1] = k
         end
         keyOrder[obj] = order
      end
   end
   return dec(rtag, rval)
end

-- Entry points of sparktorch7.t7 (one call each, from a fresh state).
function M.loadFlat(source, isBytes, mode, opts)
   local obj
   if isBytes then
      obj = torch.deserialize(source, mode, opts)
   else
      obj = torch.load(source, mode, opts)
   end
   return M.flatten(obj)
end

function M.saveFlat(path, mode, rtag, rval, nodes)
   local obj = M.unflatten(rtag, rval, nodes)
   if path then
      torch.save(path, obj, mode)
      return nil
   end
   return torch.serialize(obj, mode)
end

installHooks()

return M
