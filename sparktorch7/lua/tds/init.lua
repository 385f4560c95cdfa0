-- tds: the containers of Torch7's `tds` package (torch/tds) as Lua classes: tds.Hash (a
-- hash table with a size), tds.Vec (a growable vector whose elements may be nil) and
-- tds.AtomicCounter (also tds.Atomic). Each object is a userdata, as tds's cdata are, so
-- `#h` is its size; h[k], h[k] = v, pairs and ipairs work as in Torch7 (whose LuaJIT
-- honours __pairs/__ipairs: requiring tds installs pairs/ipairs that do, for every object
-- whose metatable has them, and behave as before for all others).
--
-- Keys and values are what tds stores: numbers, strings, booleans, tds objects and torch
-- tensors (a plain Lua table is refused, except by the constructors, which turn nested
-- tables into tds.Vec when every key is a number, else tds.Hash). Saved objects are
-- written as Torch7's tds writes them (version 0: a Long count, then keys and values; a
-- Hash iterates in insertion order, so one read from a file is written back unchanged);
-- torch.load reads tds files into these classes once `tds` is required (lua/torch/tds.lua).
local torch = require 'torch'

local tds = {}

local F = torch._fields
local newObject = torch._newObject
local type, select, tostring, rawget, next, error = type, select, tostring, rawget, next, error
local format, floor = string.format, math.floor

-- ------------------------------------------------------------------ pairs / ipairs
if not rawget(_G, '__sparktorch7_meta_pairs') then
   local getmt = debug.getmetatable
   local rawpairs, rawipairs = pairs, ipairs
   function pairs(t)
      local mt = getmt(t)
      local f = type(mt) == 'table' and rawget(mt, '__pairs')
      if f then return f(t) end
      return rawpairs(t)
   end
   function ipairs(t)
      local mt = getmt(t)
      local f = type(mt) == 'table' and rawget(mt, '__ipairs')
      if f then return f(t) end
      return rawipairs(t)
   end
   rawset(_G, '__sparktorch7_meta_pairs', true)
end

-- ------------------------------------------------------------------ elements
local TDS = {['tds.Hash'] = true, ['tds.Vec'] = true, ['tds.AtomicCounter'] = true}

local function elemType(v)
   local t = type(v)
   if t == 'string' or t == 'number' or t == 'boolean' then return t end
   local tn = torch.typename(v)
   if tn and (TDS[tn] or torch.isTensor(v)) then return tn end
   return nil, tn or t
end

local function checkElem(cls, v, what)
   local ok, tn = elemType(v)
   if not ok then
      error(format('<%s> unsupported %s type <%s> (set): a tds container holds numbers, strings, ' ..
         'booleans, tds objects and tensors (build nested tds.Hash/tds.Vec for tables)', cls, what, tn), 3)
   end
end

local function isvec(tbl)
   for k in next, tbl do
      if type(k) ~= 'number' then return false end
   end
   return true
end

local Hash, Vec

-- a constructor's argument: tables become tds objects
local function convert(v)
   if type(v) == 'table' and torch.typename(v) == nil then
      return isvec(v) and Vec(v) or Hash(v)
   end
   return v
end

local function indent(kstr, vstr)
   local sp = string.rep(' ', #kstr)
   local i = 0
   return (vstr:gsub('([^\n]+)', function(line)
      i = i + 1
      return (i == 1 and kstr or sp) .. line
   end))
end

-- ------------------------------------------------------------------ tds.Hash
local HashMT = torch._objectMetatable()
HashMT.__typename = 'tds.Hash'
HashMT.__version = 0

-- fields: d (key -> value), keys (insertion order, HOLE where a key was removed), at
-- (key -> its slot in keys), n (the size), holes. Pairs go in insertion order, so a Hash
-- read from a file is written back in the file's order (byte for byte).
local HOLE = setmetatable({}, {__tostring = function() return 'tds.Hash hole' end})

local function newHash()
   return newObject(HashMT, {d = {}, keys = {}, at = {}, n = 0, holes = 0})
end

local function compact(f)
   local keys, at, j = f.keys, f.at, 0
   local packed = {}
   for i = 1, #keys do
      local k = keys[i]
      if k ~= HOLE then
         j = j + 1
         packed[j] = k
         at[k] = j
      end
   end
   f.keys, f.holes = packed, 0
end

function HashMT.__index(self, k)
   if k == nil then error('<tds.Hash> hash index is nil', 2) end
   return F[self].d[k]
end

function HashMT.__newindex(self, k, v)
   if k == nil then error('<tds.Hash> hash index is nil', 2) end
   if k ~= k then error('<tds.Hash> hash index is NaN', 2) end
   checkElem('tds.Hash', k, 'key')
   local f = F[self]
   local d = f.d
   if v == nil then
      if d[k] ~= nil then
         d[k] = nil
         f.n = f.n - 1
         f.keys[f.at[k]] = HOLE
         f.at[k] = nil
         f.holes = f.holes + 1
         if f.holes > 16 and f.holes > f.n then compact(f) end
      end
      return
   end
   checkElem('tds.Hash', v, 'value')
   if d[k] == nil then
      f.n = f.n + 1
      local keys = f.keys
      local i = #keys + 1
      keys[i] = k
      f.at[k] = i
   end
   d[k] = v
end

function HashMT.__len(self) return F[self].n end

function HashMT.__pairs(self)
   local f = F[self]
   local keys, d = f.keys, f.d        -- a compaction while iterating makes a new keys table
   local i = 0
   return function()
      while true do
         i = i + 1
         local k = keys[i]
         if k == nil then return nil end
         if k ~= HOLE and d[k] ~= nil then return k, d[k] end
      end
   end
end

local function key2str(k)
   local t = type(k)
   if t == 'string' or t == 'number' or t == 'boolean' then return tostring(k) end
   return torch.type(k)
end

function HashMT.__tostring(self)
   local out = {format('tds.Hash[%d]{', #self)}
   local ksz, idx = 0, 0
   for k in pairs(self) do
      ksz = math.max(ksz, #key2str(k))
      idx = idx + 1
      if idx == 20 then break end
   end
   idx = 0
   for k, v in pairs(self) do
      local kstr = key2str(k)
      out[#out + 1] = indent(kstr .. string.rep(' ', ksz - #kstr) .. ' : ', tostring(v))
      idx = idx + 1
      if idx == 20 then out[#out + 1] = '...'; break end
   end
   out[#out + 1] = '}'
   return table.concat(out, '\n')
end

function HashMT.__write(self, file)
   file:writeLong(#self)
   for k, v in pairs(self) do
      file:writeObject(k)
      file:writeObject(v)
   end
end

function HashMT.__read(self, file)
   local n = file:readLong()
   for _ = 1, n do
      local k = file:readObject()
      self[k] = file:readObject()
   end
end

function Hash(...)
   local h = newHash()
   local n = select('#', ...)
   if n == 1 and type((...)) == 'table' and torch.typename((...)) == nil then
      for k, v in next, (...) do h[convert(k)] = convert(v) end
   elseif n > 0 then
      error('<tds.Hash> lua table or nothing expected, got ' .. torch.type((...)), 2)
   end
   return h
end

-- ------------------------------------------------------------------ tds.Vec
local VecMT = torch._objectMetatable()
VecMT.__typename = 'tds.Vec'
VecMT.__version = 0
local methods = {}

local function newVec()
   return newObject(VecMT, {d = {}, n = 0})
end

local function checkIndex(name, k, level)
   if type(k) ~= 'number' or k < 1 or k ~= floor(k) then
      error(format('<tds.Vec%s> positive integer expected as index, got %s', name, tostring(k)), level + 1)
   end
end

function VecMT.__index(self, k)
   if type(k) == 'number' then
      checkIndex('', k, 2)
      return F[self].d[k]
   end
   local m = methods[k]
   if m == nil then
      error(format('<tds.Vec> invalid key (number) or method name: %s', tostring(k)), 2)
   end
   return m
end

function VecMT.__newindex(self, k, v)
   checkIndex('', k, 2)
   if v ~= nil then checkElem('tds.Vec', v, 'value') end
   local f = F[self]
   f.d[k] = v
   if k > f.n then f.n = k end          -- setting past the end grows the vector (nils between)
end

function VecMT.__len(self) return F[self].n end

function VecMT.__ipairs(self)
   local f = F[self]
   local d, k = f.d, 0
   return function()
      k = k + 1
      if k <= f.n then return k, d[k] end
   end
end
VecMT.__pairs = VecMT.__ipairs

-- insert(value) appends; insert(pos, value) shifts pos.. up (1 <= pos <= #v + 1)
function methods.insert(self, ...)
   local nargs = select('#', ...)
   local f = F[self]
   local pos, v
   if nargs == 1 then
      pos, v = f.n + 1, ...
   elseif nargs == 2 then
      pos, v = ...
      checkIndex(':insert', pos, 2)
      if pos > f.n + 1 then
         error(format('<tds.Vec:insert> position %d out of range 1..%d', pos, f.n + 1), 2)
      end
   else
      error('<tds.Vec:insert> [position] value expected', 2)
   end
   if v ~= nil then checkElem('tds.Vec', v, 'value') end
   local d = f.d
   for i = f.n, pos, -1 do d[i + 1] = d[i] end
   d[pos] = v
   f.n = f.n + 1
end

-- remove([pos]): the element at pos (default the last) goes, the next ones shift down
function methods.remove(self, pos)
   local f = F[self]
   if pos == nil then pos = f.n end
   if f.n == 0 and pos == 0 then return end
   checkIndex(':remove', pos, 2)
   if pos > f.n then return end
   local d = f.d
   for i = pos, f.n - 1 do d[i] = d[i + 1] end
   d[f.n] = nil
   f.n = f.n - 1
end

function methods.resize(self, size)
   if type(size) ~= 'number' or size < 0 or size ~= floor(size) then
      error('<tds.Vec:resize> size must be a non-negative integer, got ' .. tostring(size), 2)
   end
   local f = F[self]
   for i = size + 1, f.n do f.d[i] = nil end
   f.n = size
end

-- sort(compare): compare(a, b) true when a goes first (nil elements are passed as nil);
-- without compare, by <
local NIL = {}
function methods.sort(self, compare)
   if compare ~= nil and type(compare) ~= 'function' then
      error('<tds.Vec:sort> compare must be a Lua function, got ' .. type(compare), 2)
   end
   compare = compare or function(a, b) return a < b end
   local f = F[self]
   local a, d = {}, f.d
   for i = 1, f.n do
      local v = d[i]
      if v == nil then v = NIL end
      a[i] = v
   end
   table.sort(a, function(x, y)
      if x == NIL then x = nil end
      if y == NIL then y = nil end
      return compare(x, y)
   end)
   for i = 1, f.n do
      local v = a[i]
      if v == NIL then v = nil end
      d[i] = v
   end
end

-- concat([sep [, i [, j]]]): the elements i..j as strings, joined
function methods.concat(self, sep, i, j)
   local f = F[self]
   i, j = i or 1, j or f.n
   local parts = {}
   for k = i, j do parts[#parts + 1] = tostring(f.d[k]) end
   return table.concat(parts, sep or '')
end

function VecMT.__tostring(self)
   local out = {format('tds.Vec[%d]{', #self)}
   for k, v in ipairs(self) do
      out[#out + 1] = indent(format('%5d : ', k), tostring(v))
      if k == 20 then out[#out + 1] = '...'; break end
   end
   out[#out + 1] = '}'
   return table.concat(out, '\n')
end

function VecMT.__write(self, file)
   local f = F[self]
   file:writeLong(f.n)
   for k = 1, f.n do file:writeObject(f.d[k]) end
end

function VecMT.__read(self, file)
   local n = file:readLong()
   for k = 1, n do self[k] = file:readObject() end
end

function Vec(...)
   local v = newVec()
   local n = select('#', ...)
   if n == 0 then return v end
   local src = ...
   if not (n == 1 and type(src) == 'table' and torch.typename(src) == nil) then src = {...} end
   if not isvec(src) then error('<tds.Vec> lua table with number keys expected', 2) end
   for k, x in next, src do v[k] = convert(x) end
   return v
end

-- ------------------------------------------------------------------ tds.AtomicCounter
local AtomicMT = torch._objectMetatable()
AtomicMT.__typename = 'tds.AtomicCounter'
AtomicMT.__version = 0
local atomicMethods = {}
function atomicMethods.inc(self)        -- returns the value before the increment
   local f = F[self]
   local v = f.v
   f.v = v + 1
   return v
end
function atomicMethods.get(self) return F[self].v end
function atomicMethods.set(self, value)
   if type(value) ~= 'number' then
      error('<tds.AtomicCounter:set> expects a number, got ' .. type(value), 2)
   end
   F[self].v = value
end
function AtomicMT.__index(_, k)
   local m = atomicMethods[k]
   if m == nil then error('<tds.AtomicCounter> no such method: ' .. tostring(k), 2) end
   return m
end
function AtomicMT.__newindex() error('<tds.AtomicCounter> has no fields to set', 2) end
function AtomicMT.__tostring(self) return 'tds.AtomicCounter=' .. tostring(F[self].v) end
function AtomicMT.__write(self, file) file:writeLong(F[self].v) end
function AtomicMT.__read(self, file) F[self].v = file:readLong() end
local function Atomic() return newObject(AtomicMT, {v = 0}) end

-- ------------------------------------------------------------------ constructors
local function ctor(mt, make)
   return setmetatable({}, {__index = mt, __newindex = mt, __call = function(_, ...) return make(...) end,
                            __tostring = function() return mt.__typename end})
end

tds.Hash = ctor(HashMT, Hash)
tds.Vec = ctor(VecMT, Vec)
tds.AtomicCounter = ctor(AtomicMT, Atomic)
tds.hash, tds.vec, tds.Atomic = tds.Hash, tds.Vec, tds.AtomicCounter

torch._register('tds.Hash', HashMT, tds.Hash)
torch._register('tds.Vec', VecMT, tds.Vec)
torch._register('tds.AtomicCounter', AtomicMT, tds.AtomicCounter)

-- empty objects for the reader (lua/torch/tds.lua), which fills them as it reads
tds._new = {['tds.Hash'] = newHash, ['tds.Vec'] = newVec, ['tds.AtomicCounter'] = Atomic}

return tds
