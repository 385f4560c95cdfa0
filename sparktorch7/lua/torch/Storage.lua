-- torch.<T>Storage: a flat typed array (doc/storage.md). Memory is malloc'd by
-- torch._alloc or belongs to a numpy array (see docs/design-tensor.md).
local ffi = require 'ffi'
local torch = torch
local types = torch._types
local F = torch._fields     -- storage -> its fields (_data, _addr, _size, _owner, _esize, _readonly)
local P = torch._pristine
local new_object = torch._newObject
local filemap = require 'torch.filemap'

local function is_storage(x)
  if type(x) ~= "userdata" then return false end
  local mt = getmetatable(x)
  return type(mt) == "table" and rawget(mt, "_isStorage") == true
end
torch._isStorage = is_storage

local floor = math.floor
local MAX_BYTES = 2 ^ 52   -- beyond any machine, and exact as a double

-- The owners of blocks made by torch._alloc (malloc'd, freed by free: true) or by
-- torch.filemap (mapped: {bytes =, shm =}): only these may be handed over to Python by the
-- numpy bridge (torch._adopt).
local blocks = setmetatable({}, {__mode = "k"})
torch._blocks = blocks

local function new_storage(rec, n)
  if not (n * rec.size < MAX_BYTES) then torch._noMemory(rec.sname, n, rec.size) end
  local data, owner = torch._alloc(rec, n)
  blocks[owner] = true
  return new_object(rec.Storage_mt, {_data = data, _addr = tonumber(ffi.cast("intptr_t", data)), _size = n,
                                     _owner = owner, _esize = rec.size})
end
torch._newStorage = new_storage

-- a storage of rec's type with the given fields
local function storage_of(rec, fields)
  return new_object(rec.Storage_mt, fields)
end

local methods = {}

function methods.size(self) return self._size end
function methods.elementSize(self) return self._esize end
function methods.data(self) return self._data end
function methods.isReadOnly(self) return self._readonly == true end

local function check_writable(self, fname)
  if self._readonly then
    error(string.format("<%s.%s> the storage is read-only (it belongs to a read-only numpy array)",
                        torch.typename(self), fname), 3)
  end
end
torch._checkWritable = check_writable

function methods.fill(self, value)
  check_writable(self, "fill")
  local d = self._data
  for i = 0, self._size - 1 do d[i] = value end
  return self
end

function methods.zero(self)
  check_writable(self, "zero")
  if self._size > 0 then ffi.fill(self._data, self._size * self._esize, 0) end
  return self
end

function methods.copy(self, src)
  check_writable(self, "copy")
  if is_storage(src) then
    if src._size ~= self._size then
      error(string.format("<%s.copy> sizes do not match: %d vs %d", torch.typename(self), self._size, src._size), 2)
    end
    if getmetatable(src) == getmetatable(self) then
      ffi.C.memmove(self._data, src._data, self._size * self._esize)
    else
      local d, s = self._data, src._data
      for i = 0, self._size - 1 do d[i] = s[i] end
    end
  elseif torch.isTensor(src) then
    torch._getrec(self).Tensor(self):copy(src)
  elseif type(src) == "table" then
    local d = self._data
    if #src ~= self._size then
      error(string.format("<%s.copy> table has %d values, the storage %d", torch.typename(self), #src, self._size), 2)
    end
    for i = 1, #src do d[i - 1] = src[i] end
  else
    error(string.format("<%s.copy> expects a storage, tensor or table, got %s", torch.typename(self), torch.type(src)), 2)
  end
  return self
end

function methods.resize(self, n)
  if type(n) ~= "number" or not (n >= 0) or n ~= floor(n) then
    torch._error(string.format("<%s.resize> expects an integer size >= 0, got %s", torch.typename(self), tostring(n)))
  end
  if n == self._size then return self end
  if self._mapped then
    torch._error(string.format("<%s.resize> the storage maps file <%s>: its size cannot change",
                               torch.typename(self), self._mapped))
  end
  local rec = torch._getrec(self)
  if not (n * rec.size < MAX_BYTES) then torch._noMemory(rec.sname .. ".resize", n, rec.size) end
  local data, owner = torch._alloc(rec, n)
  blocks[owner] = true
  local keep = math.min(n, self._size)
  if keep > 0 then ffi.copy(data, self._data, keep * rec.size) end
  self._data, self._owner, self._size, self._readonly = data, owner, n, nil
  self._addr = tonumber(ffi.cast("intptr_t", data))
  return self
end

function methods.string(self, str)
  local rec = torch._getrec(self)
  if str ~= nil then
    check_writable(self, "string")
    methods.resize(self, #str)
    if #str > 0 then ffi.copy(self._data, str, #str) end
    return self
  end
  return ffi.string(self._data, self._size * rec.size)
end


function methods.clone(self)
  local rec = torch._getrec(self)
  local s = new_storage(rec, self._size)
  if self._size > 0 then ffi.copy(s._data, self._data, self._size * rec.size) end
  return s
end

function methods.totable(self)
  local t, d = {}, self._data
  local long = torch._getrec(self).long
  for i = 0, self._size - 1 do
    t[i + 1] = long and tonumber(d[i]) or d[i]
  end
  return t
end

function methods.type(self, name)
  if name == nil then return torch.typename(self) end
  local rec = torch._recByName(name, "Storage")
  if rec == torch._getrec(self) then return self end
  local s = new_storage(rec, self._size)
  local d, src = s._data, self._data
  for i = 0, self._size - 1 do d[i] = src[i] end
  return s
end

function methods.__tostring__(self)
  local parts = {"\n"}
  local n = self._size
  local d = self._data
  if n > 0 then
    local vals = ffi.new("double[?]", n)
    for i = 0, n - 1 do vals[i] = tonumber(d[i]) end
    local fmt, scale = torch._printformat(vals, n)
    if scale then parts[#parts + 1] = string.format("%g", scale) .. " *\n" end
    for i = 0, n - 1 do
      parts[#parts + 1] = string.format(fmt, vals[i] / (scale or 1)) .. "\n"
    end
  end
  parts[#parts + 1] = string.format("[%s of size %d]\n", torch.typename(self), n)
  return table.concat(parts)
end

for _, rec in ipairs(types) do
  local mt = torch._objectMetatable()   -- of every storage of this type (userdata)
  for k, v in pairs(methods) do mt[k] = v end
  mt.__typename = rec.sname
  mt._isStorage = true
  mt._rec = rec
  local islong = rec.long
  mt.__index = function(self, k)
    local f = F[self]
    local v = f[k]
    if v ~= nil then return v end
    local m = mt[k]
    if m ~= nil then return m end
    if type(k) == "number" then
      if not (k >= 1 and k <= f._size) then
        error(string.format("<%s> index %s out of range [1, %d]", rec.sname, tostring(k), f._size), 2)
      end
      local d = f._data or self._data
      v = d[floor(k) - 1]
      if islong then return tonumber(v) end
      return v
    end
    if k == "_data" then
      -- storages made by the numpy bridge get their pointer on first use
      local addr = f._addr
      if addr == nil then return nil end
      local d = ffi.cast(f._readonly and rec.cptr or rec.ptr, addr)
      f._data = d
      return d
    end
    return nil
  end
  mt.__newindex = function(self, k, v)
    if type(k) == "number" then
      local f = F[self]
      if not (k >= 1 and k <= f._size) then
        error(string.format("<%s> index %s out of range [1, %d]", rec.sname, tostring(k), f._size), 2)
      end
      if f._readonly then check_writable(self, "__newindex") end
      if type(v) ~= "number" then
        error(string.format("<%s> cannot assign a %s to an element", rec.sname, torch.type(v)), 2)
      end
      self._data[floor(k) - 1] = v
    else
      F[self][k] = v
      P[self] = nil
    end
  end
  mt.__len = function(self) return self._size end
  mt.__tostring = function(self) return self:__tostring__() end

  local ctor = {}
  -- s.new(...) is the constructor, as in Torch7: s.new() is a new empty storage, and
  -- s:new() passes s itself, so it is a view on the whole of s
  mt.new = function(...) return ctor(...) end
  setmetatable(ctor, {
    __index = mt, __newindex = mt, __metatable = mt,
    __tostring = function() return rec.sname end,
    __call = function(_, a, b, c, d)
      if a == nil then
        return new_storage(rec, 0)
      elseif type(a) == "number" then
        if a < 0 or a ~= math.floor(a) then
          error(string.format("<%s> size must be a non-negative integer, got %s", rec.sname, tostring(a)), 2)
        end
        local s = new_storage(rec, a)
        if b ~= nil then s:fill(b) end
        return s
      elseif type(a) == "table" and not is_storage(a) and getmetatable(a) == nil then
        local s = new_storage(rec, #a)
        local d = s._data
        for i = 1, #a do
          local v = a[i]
          if type(v) ~= "number" then
            error(string.format("<%s> table element %d is a %s, expected a number", rec.sname, i, type(v)), 2)
          end
          d[i - 1] = v
        end
        return s
      elseif is_storage(a) then
        -- a view on another storage: (storage, offset [1-based], size)
        if getmetatable(a) ~= mt then
          error(string.format("<%s> cannot view a %s", rec.sname, torch.typename(a)), 2)
        end
        local offset = b or 1
        local size = c or (type(offset) == "number" and a._size - offset + 1)
        if type(offset) ~= "number" or type(size) ~= "number" or offset ~= floor(offset) or size ~= floor(size)
            or not (offset >= 1 and size >= 0 and offset - 1 + size <= a._size) then
          error(string.format("<%s> view [%s, +%s) out of the storage's range [1, %d]",
                              rec.sname, tostring(offset), tostring(size), a._size), 2)
        end
        local data = a._data + (offset - 1)
        return storage_of(rec, {_data = data, _addr = a._addr + (offset - 1) * rec.size, _size = size,
                                _owner = a, _readonly = a._readonly, _esize = rec.size})
      elseif type(a) == "string" then
        -- (filename [, shared [, size [, sharedMem]]]): memory mapped from the file
        local ok, data, owner, n, block = pcall(filemap.map, rec, a, b, c, d)
        if not ok then torch._error(data) end
        blocks[owner] = block
        return storage_of(rec, {_data = data, _addr = tonumber(ffi.cast("intptr_t", data)), _size = n,
                                _owner = owner, _esize = rec.size, _mapped = a})
      end
      error(string.format("<%s> expects a size, a table or a storage, got %s", rec.sname, torch.type(a)), 2)
    end,
  })
  rec.Storage = ctor
  rec.Storage_mt = mt
  torch[rec.name .. "Storage"] = ctor
  torch._register(rec.sname, mt, ctor)
end

function torch._getrec(x)
  local mt = getmetatable(x)
  return mt and rawget(mt, "_rec")
end

-- "torch.FloatTensor", "Float", "float" -> the type record
function torch._recByName(name, kind)
  local n = tostring(name):gsub("^torch%.", ""):gsub("Tensor$", ""):gsub("Storage$", "")
  n = torch._cuda_twins and torch._cuda_twins[n] or n
  local rec = types[n] or types[n:sub(1, 1):upper() .. n:sub(2)]
  if not rec then
    torch._error(string.format("<torch> unknown %s type '%s'", kind or "tensor", tostring(name)))
  end
  return rec
end

-- Torch7's print format for n doubles at d (Tensor.lua's Storage__printformat):
-- returns the format, the scale (or nil) and the column width. The width is NaN,
-- and the format a plain "%f", when a value is NaN, as happens in Torch7.
function torch._printformat(d, n)
  if n == 0 then return "", nil, 0 end
  local intMode = true
  for i = 0, n - 1 do
    local v = d[i]
    if v ~= math.ceil(v) then intMode = false; break end
  end
  -- TH's min and max of the absolute values, a NaN wins
  local amin = math.abs(d[0])
  local amax = amin
  for i = 1, n - 1 do
    if amin ~= amin then break end
    local a = math.abs(d[i])
    if a ~= a then amin, amax = a, a; break end
    if a < amin then amin = a end
    if a > amax then amax = a end
  end
  local function digits(a)
    if a == 0 then return 1 end
    return math.floor(math.log10(a)) + 1
  end
  local expMin, expMax = digits(amin), digits(amax)
  local format, scale, sz
  if intMode then
    if expMax > 9 then
      format, sz = "%11.4e", 11
    else
      sz = expMax + 1
      format = "%" .. sz .. "d"
    end
  elseif expMax - expMin > 4 then
    sz = 11
    if math.abs(expMax) > 99 or math.abs(expMin) > 99 then sz = 12 end
    format = "%" .. sz .. ".4e"
  elseif expMax > 5 or expMax < 0 then
    sz = 7
    format = "%7.4f"
    scale = 10 ^ (expMax - 1)
  else
    sz = expMax == 0 and 7 or expMax + 6
    if sz ~= sz then
      format = "%f"
    else
      format = "%" .. sz .. ".4f"
    end
  end
  if scale == 1 then scale = nil end
  return format, scale, sz
end
