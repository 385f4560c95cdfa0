-- torch.<T>Tensor: a view (offset, sizes, strides) on a storage (doc/tensor.md).
local ffi = require 'ffi'
local torch = torch
local types = torch._types
local is_storage = torch._isStorage
local new_storage = torch._newStorage
local floor, huge = math.floor, math.huge
local type, select, error, tostring = type, select, error, tostring

local M = {}            -- methods shared by every tensor type
local F = torch._fields -- tensor -> its fields (_storage, _offset, _size, _stride, _dim)
local P = torch._pristine
local new_object = torch._newObject

local function is_tensor(x)
  if type(x) ~= "userdata" then return false end
  local mt = getmetatable(x)
  return type(mt) == "table" and rawget(mt, "_isTensor") == true
end
torch._isTensor = is_tensor
function torch.isTensor(x) return is_tensor(x) end
M.isTensor = function(x) return is_tensor(x) end
-- Torch7's cdata() is the C struct pointer; here a tensor's identity serves the same uses
M.cdata = function(t) return torch.pointer(t) end
function torch.isStorage(x) return is_storage(x) end

local function rec_of(t) return getmetatable(t)._rec end

local function tname(t) return getmetatable(t).__typename end

local raise = torch._error   -- blames the caller's line, outside lua/torch/
local half_round = require('torch.half').round

local function fail(t, fname, msg, ...)
  raise(string.format("<%s.%s> " .. msg, tname(t), fname, ...))
end

local function new_tensor(rec, storage, offset, size, stride)
  return new_object(rec.Tensor_mt, {_storage = storage, _offset = offset, _size = size, _stride = stride,
                                    _dim = #size})
end
torch._newTensor = new_tensor

-- The one rule of memory safety, shared by the .t7 reader, the FFI fast paths and the numpy
-- bridge (_tensor.pxi): every element a tensor views lies in its storage. Values are Lua
-- numbers (doubles), so each must be an integer of magnitude <= 2^53 (exact in a double)
-- before any arithmetic; the products and sums below then cannot overflow or round the
-- comparisons the wrong way. Returns nil when the view is valid, else what is wrong.
local EXACT = 2 ^ 53
local OVERLAP_LIMIT = 2 ^ 31   -- elements of a view larger than its storage (stride 0)
local function is_int(v, lo)
  return type(v) == "number" and v == floor(v) and v >= lo and v <= EXACT
end
local function view_problem(nstorage, offset, size, stride, dim)
  if not is_int(dim, 0) or dim > 64 then return "invalid number of dimensions " .. tostring(dim) end
  if type(size) ~= "table" or type(stride) ~= "table" then return "sizes or strides missing" end
  if not is_int(offset, 0) then return "invalid storage offset " .. tostring(offset) end
  local n, lo, hi, empty = 1, offset, offset, dim == 0
  for i = 1, dim do
    local s, st = size[i], stride[i]
    if not is_int(s, 0) then
      return string.format("invalid size %s in dimension %d (expected an integer in 0..2^53)", tostring(s), i)
    end
    if not is_int(st, -EXACT) then
      return string.format("invalid stride %s in dimension %d (expected an integer of magnitude <= 2^53)",
        tostring(st), i)
    end
    if s == 0 then
      empty = true
    else
      n = n * s
      if n > EXACT then return "more than 2^53 elements" end
      local reach = (s - 1) * st
      if reach < 0 then lo = lo + reach else hi = hi + reach end
    end
  end
  if empty then return nil end
  if lo < 0 or hi >= nstorage then
    return string.format("it reaches element %d of a storage of %d elements (it views elements %d..%d)",
      (lo < 0 and lo or hi) + 1, nstorage, lo + 1, hi + 1)
  end
  if n > nstorage and n > OVERLAP_LIMIT then
    return string.format("it views %d elements of a storage of %d elements (more than 2^31 repeated elements)",
      n, nstorage)
  end
  return nil
end
torch._viewProblem = view_problem

-- Refuse a tensor whose view leaves its storage (after t:set, a storage resize, ...): every
-- FFI loop over a tensor's elements calls this once per call, before touching memory.
local function check_view(t, fname)
  local st = t._storage
  local why = view_problem(st and st._size or 0, t._offset, t._size, t._stride, t._dim)
  if why then
    fail(t, fname or "data", "this tensor cannot be used: %s (was its storage resized under it, or was " ..
      "it set past the storage's end?)", why)
  end
  return t
end
torch._checkView = check_view

-- one element at a 0-based storage index: it must lie in the storage
local function element_index(st, idx, tn)
  if not (idx >= 0 and idx < st._size) then
    error(string.format("<%s> element %s is outside its storage of %d elements (was the storage resized " ..
      "under the tensor?)", tn, tostring(idx + 1), st._size), 3)
  end
  return idx
end

local function contiguous_strides(size)
  local stride, acc = {}, 1
  for i = #size, 1, -1 do
    stride[i] = acc
    acc = acc * (size[i] > 0 and size[i] or 1)
  end
  return stride
end

-- TH's rule for strides: a given stride >= 0 is kept, a missing or negative one
-- is the contiguous one given the next dimension's size and stride.
local function th_strides(size, given)
  local stride = {}
  for i = #size, 1, -1 do
    local g = given and given[i]
    if type(g) == "number" and g >= 0 then
      stride[i] = g
    elseif i == #size then
      stride[i] = 1
    else
      stride[i] = size[i + 1] * stride[i + 1]
    end
  end
  return stride
end

local function numel(size)
  local n = 1
  for i = 1, #size do n = n * size[i] end
  return #size == 0 and 0 or n
end

-- elements of storage needed by (offset, size, stride)
local function extent(offset, size, stride)
  local e = offset + 1
  for i = 1, #size do
    if size[i] == 0 then return 0 end
    if stride[i] > 0 then e = e + (size[i] - 1) * stride[i] end
  end
  return #size == 0 and 0 or e
end

local function result_like(rec, size)
  size = {unpack(size)}
  local storage = new_storage(rec, numel(size))
  return new_tensor(rec, storage, 0, size, contiguous_strides(size))
end
torch._resultLike = result_like

local function check_dim(t, fname, dim, extra)
  if type(dim) ~= "number" or dim ~= floor(dim) or dim < 1 or dim > t._dim + (extra or 0) then
    fail(t, fname, "dimension %s out of range of a %dD tensor", tostring(dim), t._dim)
  end
end

-- Read a size list given as numbers, a LongStorage or a table.
local function size_args(fname, tn, ...)
  local a = ...
  if a == nil then return {} end
  if is_storage(a) then return a:totable(), select(2, ...) end
  if type(a) == "table" and not is_tensor(a) and getmetatable(a) == nil then return {unpack(a)}, select(2, ...) end
  if is_tensor(a) then
    local r = {}
    for i = 1, a:nElement() do r[i] = a:storage()[a:storageOffset() + i - 1] end
    return r
  end
  local n = select("#", ...)
  local size = {}
  for i = 1, n do
    local v = select(i, ...)
    if v == nil then break end
    if type(v) ~= "number" then
      raise(string.format("<%s.%s> sizes must be numbers, argument %d is a %s", tn, fname, i, torch.type(v)))
    end
    size[i] = v
  end
  return size
end

-- Check a size list; like TH, the dimensions end at the first size 0
-- (torch.Tensor(0) has no dimension, torch.Tensor(3, 0) is 1D). A fractional size is
-- truncated toward zero as Torch7's luaL_checklong does (torch.Tensor(n / 2) with n odd).
local function check_sizes(tn, fname, size)
  for i = 1, #size do
    local v = torch._truncateSize(size[i])
    if v == nil then
      raise(string.format("<%s.%s> size %d must be a non-negative integer, got %s", tn, fname, i, tostring(size[i])))
    end
    size[i] = v
  end
  for i = 1, #size do
    if size[i] == 0 then
      for j = #size, i, -1 do size[j] = nil end
      break
    end
  end
  return size
end

---------------------------------------------------------------- element iteration
-- Sizes/strides with size-1 dims dropped and contiguous neighbours merged.
local function coalesce(t)
  local sz, st = {}, {}
  for i = 1, t._dim do
    local s = t._size[i]
    if s ~= 1 then
      local n = #sz
      if n > 0 and st[n] == s * t._stride[i] then
        sz[n] = sz[n] * s
        st[n] = t._stride[i]
      else
        sz[n + 1], st[n + 1] = s, t._stride[i]
      end
    end
  end
  return sz, st
end

-- Call f(data, index) for each element of t in row-major order.
local function apply1(t, f)
  if t._dim == 0 then return end
  check_view(t)
  local data, off = t._storage._data, t._offset
  local sz, st = coalesce(t)
  local nd = #sz
  if nd == 0 then
    if numel(t._size) == 1 then f(data, off) end
    return
  end
  if nd == 1 then
    local s, n = st[1], sz[1]
    for i = 0, n - 1 do f(data, off + i * s) end
    return
  end
  if nd == 2 then
    local s1, s2, n1, n2 = st[1], st[2], sz[1], sz[2]
    for i = 0, n1 - 1 do
      local base = off + i * s1
      for j = 0, n2 - 1 do f(data, base + j * s2) end
    end
    return
  end
  for _, v in ipairs(sz) do if v == 0 then return end end
  local counter = {}
  for i = 1, nd do counter[i] = 0 end
  local s, n, pos = st[nd], sz[nd], off
  while true do
    for j = 0, n - 1 do f(data, pos + j * s) end
    local d = nd - 1
    while d >= 1 do
      counter[d] = counter[d] + 1
      pos = pos + st[d]
      if counter[d] < sz[d] then break end
      pos = pos - counter[d] * st[d]
      counter[d] = 0
      d = d - 1
    end
    if d == 0 then return end
  end
end
torch._apply1 = apply1

-- A stepper over t's elements in row-major order: returns a function giving the next index.
local function stepper(t)
  local sz, st = coalesce(t)
  local nd = #sz
  local pos = t._offset
  local counter = {}
  for i = 1, nd do counter[i] = 0 end
  local first = true
  return function()
    if first then first = false; return pos end
    local d = nd
    while d >= 1 do
      counter[d] = counter[d] + 1
      pos = pos + st[d]
      if counter[d] < sz[d] then return pos end
      pos = pos - counter[d] * st[d]
      counter[d] = 0
      d = d - 1
    end
    return pos
  end
end

local function same_layout(a, b)
  local sa, ta = coalesce(a)
  local sb, tb = coalesce(b)
  if #sa ~= #sb then return false end
  for i = 1, #sa do if sa[i] ~= sb[i] then return false end end
  return true, sa, ta, tb
end

-- Call f(da, ia, db, ib) pairing the elements of a and b in row-major order.
local function apply2(a, b, f)
  local n = a:nElement()
  if n ~= b:nElement() then
    raise(string.format("<torch> tensors have %d and %d elements", n, b:nElement()))
  end
  if n == 0 then return end
  check_view(a); check_view(b)
  local da, db = a._storage._data, b._storage._data
  local same, sz, ta, tb = same_layout(a, b)
  if same and #sz <= 1 then
    local oa, ob = a._offset, b._offset
    local sa, sb = ta[1] or 0, tb[1] or 0
    for i = 0, n - 1 do f(da, oa + i * sa, db, ob + i * sb) end
    return
  end
  if same and #sz == 2 then
    local oa, ob = a._offset, b._offset
    for i = 0, sz[1] - 1 do
      local ba, bb = oa + i * ta[1], ob + i * tb[1]
      for j = 0, sz[2] - 1 do f(da, ba + j * ta[2], db, bb + j * tb[2]) end
    end
    return
  end
  local na, nb = stepper(a), stepper(b)
  for _ = 1, n do f(da, na(), db, nb()) end
end
torch._apply2 = apply2

local function apply3(a, b, c, f)
  local n = a:nElement()
  if n ~= b:nElement() or n ~= c:nElement() then
    raise(string.format("<torch> tensors have %d, %d and %d elements", n, b:nElement(), c:nElement()))
  end
  if n == 0 then return end
  check_view(a); check_view(b); check_view(c)
  local da, db, dc = a._storage._data, b._storage._data, c._storage._data
  if a:isContiguous() and b:isContiguous() and c:isContiguous() then
    local oa, ob, oc = a._offset, b._offset, c._offset
    for i = 0, n - 1 do f(da, oa + i, db, ob + i, dc, oc + i) end
    return
  end
  local na, nb, nc = stepper(a), stepper(b), stepper(c)
  for _ = 1, n do f(da, na(), db, nb(), dc, nc()) end
end
torch._apply3 = apply3

---------------------------------------------------------------- construction
local function from_table(rec, tbl)
  local size = {}
  local x = tbl
  while type(x) == "table" and not is_tensor(x) do
    size[#size + 1] = #x
    if #x == 0 then break end
    x = x[1]
  end
  local t = result_like(rec, size)
  local d = t._storage._data
  local pos = 0
  local function fill(v, depth, path)
    if depth > #size then
      if type(v) ~= "number" then
        raise(string.format("<%s> table element %s is a %s, expected a number", rec.tname, path, type(v)))
      end
      d[pos] = v
      pos = pos + 1
      return
    end
    if type(v) ~= "table" or #v ~= size[depth] then
      raise(string.format("<%s> the table is not rectangular: element %s should hold %d values",
                          rec.tname, path == "" and "(top)" or path, size[depth]))
    end
    for i = 1, #v do fill(v[i], depth + 1, path .. "[" .. i .. "]") end
  end
  fill(tbl, 1, "")
  return t
end

local function construct(rec, ...)
  local nargs = select("#", ...)
  local a, b = ...
  if nargs == 0 or (a == nil and nargs == 1) then
    return new_tensor(rec, new_storage(rec, 0), 0, {}, {})
  end
  if type(a) == "number" then
    local size = size_args("__init", rec.tname, ...)
    check_sizes(rec.tname, "__init", size)
    return result_like(rec, size)
  end
  if is_tensor(a) then
    if getmetatable(a) ~= rec.Tensor_mt then
      raise(string.format("<%s> cannot share the storage of a %s (use :type() or :copy())", rec.tname, tname(a)))
    end
    return new_tensor(rec, a._storage, a._offset, {unpack(a._size)}, {unpack(a._stride)})
  end
  if is_storage(a) and getmetatable(a) == rec.Storage_mt then
    local storage, offset = a, (b or 1) - 1
    local size, stride
    local c = select(3, ...)
    if nargs <= 1 then
      size, stride = {a._size}, {1}
      if a._size == 0 then size, stride = {}, {} end
    elseif is_storage(c) or (type(c) == "table" and not is_tensor(c)) then
      size = is_storage(c) and c:totable() or {unpack(c)}
      local d = select(4, ...)
      if d ~= nil then stride = is_storage(d) and d:totable() or {unpack(d)} end
    else
      size, stride = {}, {}
      for i = 3, nargs, 2 do
        local sz, st = select(i, ...), select(i + 1, ...)
        if sz == nil then break end
        size[#size + 1] = sz
        stride[#stride + 1] = st or -1
      end
    end
    if type(offset) ~= "number" or offset ~= floor(offset) then
      raise(string.format("<%s> storage offset must be an integer, got %s", rec.tname, tostring(b)))
    end
    if stride and #stride ~= #size then
      raise(string.format("<%s> %d sizes but %d strides", rec.tname, #size, #stride))
    end
    check_sizes(rec.tname, "__init", size)
    stride = th_strides(size, stride)
    if offset < 0 or extent(offset, size, stride) > storage._size then
      raise(string.format("<%s> sizes and strides reach past the end of the storage (%d elements)",
                          rec.tname, storage._size))
    end
    return new_tensor(rec, storage, offset, size, stride)
  end
  if is_storage(a) and getmetatable(a) == types.Long.Storage_mt then
    -- a LongStorage of sizes, and maybe one of strides
    local size = a:totable()
    check_sizes(rec.tname, "__init", size)
    local t = result_like(rec, size)
    if b ~= nil then
      t:resize(a, b)
    end
    return t
  end
  if is_storage(a) then
    raise(string.format("<%s> cannot view a %s (a %s, or a LongStorage of sizes, is expected)",
                        rec.tname, torch.typename(a), rec.sname))
  end
  if type(a) == "table" and getmetatable(a) == nil then return from_table(rec, a) end
  raise(string.format("<%s> expects sizes, a LongStorage, a storage, a tensor or a table, got %s",
                      rec.tname, torch.type(a)))
end

---------------------------------------------------------------- sizes and layout
function M.size(t, dim)
  if dim == nil then
    local s = torch.LongStorage(t._dim)
    for i = 1, t._dim do s._data[i - 1] = t._size[i] end
    return s
  end
  if type(dim) ~= "number" or dim < 1 or dim > t._dim then
    fail(t, "size", "dimension %s out of range of a %dD tensor", tostring(dim), t._dim)
  end
  return t._size[dim]
end

function M.stride(t, dim)
  if dim == nil then
    local s = torch.LongStorage(t._dim)
    for i = 1, t._dim do s._data[i - 1] = t._stride[i] end
    return s
  end
  if type(dim) ~= "number" or dim < 1 or dim > t._dim then
    fail(t, "stride", "dimension %s out of range of a %dD tensor", tostring(dim), t._dim)
  end
  return t._stride[dim]
end

function M.dim(t) return t._dim end
M.nDimension = M.dim
function M.nElement(t) return numel(t._size) end
M.numel = M.nElement
function M.storage(t) return t._storage end
function M.storageOffset(t) return t._offset + 1 end
function M.elementSize(t) return rec_of(t).size end
M.__len__ = M.size                 -- what # gives in Torch7 (see docs: # itself needs Lua 5.2 semantics)
function M.retain(t) end           -- reference counting is the GC's business here
function M.free(t) end
function M.empty(t)                -- no dimension, no storage of its own
  t._storage, t._offset, t._size, t._stride, t._dim = new_storage(rec_of(t), 0), 0, {}, {}, 0
  return t
end

function M.isContiguous(t)
  local acc = 1
  for i = t._dim, 1, -1 do
    local s = t._size[i]
    if s ~= 1 then
      if t._stride[i] ~= acc then return false end
      acc = acc * s
    end
  end
  return true
end

function M.isSameSizeAs(t, other)
  if t._dim ~= other._dim then return false end
  for i = 1, t._dim do if t._size[i] ~= other._size[i] then return false end end
  return true
end

function M.isSize(t, size)
  size = is_storage(size) and size:totable() or size
  if #size ~= t._dim then return false end
  for i = 1, t._dim do if t._size[i] ~= size[i] then return false end end
  return true
end

function M.isSetTo(t, other)
  if t._storage ~= other._storage or t._offset ~= other._offset or t._dim ~= other._dim then return false end
  for i = 1, t._dim do
    if t._size[i] ~= other._size[i] or t._stride[i] ~= other._stride[i] then return false end
  end
  return t._dim > 0
end

function M.data(t)
  check_view(t, "data")
  return t._storage._data + t._offset
end

-- (pointer at the first element, element count) of a contiguous tensor; nil otherwise
function M._flat(t)
  if not M.isContiguous(t) then return nil end
  check_view(t, "data")
  return t._storage._data + t._offset, numel(t._size)
end

function M.type(t, name)
  if name == nil then return tname(t) end
  local rec = torch._recByName(name)
  if rec.Tensor_mt == getmetatable(t) then return t end
  local r = result_like(rec, t._size)
  r:copy(t)
  return r
end

function M.typeAs(t, other) return M.type(t, tname(other)) end

function M.real(t) return M.type(t, torch.getdefaulttensortype()) end

for _, rec in ipairs(types) do
  local r = rec
  M[rec.name:lower()] = function(t) return M.type(t, r.tname) end
end
M.cuda = M.float
M.cudaDouble = M.double
M.cudaLong = M.long
M.cudaByte = M.byte
M.cudaInt = M.int
M.cudaHalf = M.float   -- CUDA types are their CPU twins; torch.CudaHalfTensor is Float


function M.clone(t)
  local r = result_like(rec_of(t), t._size)
  return r:copy(t)
end

function M.contiguous(t)
  if M.isContiguous(t) then return t end
  return M.clone(t)
end

function M.set(t, src, offset, ...)
  if src == nil then
    t._storage, t._offset, t._size, t._stride, t._dim = new_storage(rec_of(t), 0), 0, {}, {}, 0
    return t
  end
  local v
  if is_tensor(src) then
    if getmetatable(src) ~= getmetatable(t) then fail(t, "set", "cannot set to a %s", tname(src)) end
    v = src
  else
    v = construct(rec_of(t), src, offset, ...)
  end
  t._storage, t._offset, t._dim = v._storage, v._offset, v._dim
  t._size, t._stride = {unpack(v._size)}, {unpack(v._stride)}
  return t
end

function M.resize(t, ...)
  local size, st = size_args("resize", tname(t), ...)
  check_sizes(tname(t), "resize", size)
  local given = st
  if is_storage(st) then given = st:totable() elseif type(st) ~= "table" then given = nil end
  local stride = th_strides(size, given)
  local need = extent(t._offset, size, stride)
  if need > t._storage._size then
    if t._storage._readonly then
      fail(t, "resize", "cannot grow a read-only storage")
    end
    t._storage:resize(need)
  end
  t._size, t._stride, t._dim = size, stride, #size
  return t
end

function M.resizeAs(t, other)
  if M.isSameSizeAs(t, other) then return t end
  return M.resize(t, {unpack(other._size)})
end

---------------------------------------------------------------- views
local function view_of(t, offset, size, stride)
  return new_tensor(rec_of(t), t._storage, offset, size, stride)
end

function M.narrow(t, dim, first, size)
  check_dim(t, "narrow", dim)
  local n = t._size[dim]
  if type(first) ~= "number" or type(size) ~= "number" or not (first >= 1 and size >= 0 and first + size - 1 <= n)
      or first ~= floor(first) or size ~= floor(size) then
    fail(t, "narrow", "range [%s, +%s) out of dimension %d of size %d", tostring(first), tostring(size), dim, n)
  end
  local sz, st = {unpack(t._size)}, {unpack(t._stride)}
  sz[dim] = size
  return view_of(t, t._offset + (first - 1) * st[dim], sz, st)
end

local function get_element(t, idx)
  local st = t._storage
  local v = st._data[element_index(st, idx, tname(t))]
  if rec_of(t).long then return tonumber(v) end
  return v
end

function M.select(t, dim, index)
  -- on a vector Torch7's binding reads element `index` whatever the dimension given
  if t._dim == 1 and type(dim) == "number" then dim = 1 end
  check_dim(t, "select", dim)
  local n = t._size[dim]
  if type(index) ~= "number" then fail(t, "select", "index must be a number, got %s", type(index)) end
  if index < 0 then index = n + index + 1 end
  if not (index >= 1 and index <= n) or index ~= floor(index) then
    fail(t, "select", "index %s out of range of dimension %d (size %d)", tostring(index), dim, n)
  end
  local offset = t._offset + (index - 1) * t._stride[dim]
  if t._dim == 1 then return get_element(t, offset) end
  local sz, st = {unpack(t._size)}, {unpack(t._stride)}
  table.remove(sz, dim)
  table.remove(st, dim)
  return view_of(t, offset, sz, st)
end

function M.sub(t, ...)
  local args = {...}
  if #args % 2 == 1 or #args / 2 > t._dim then
    fail(t, "sub", "expects pairs of (first, last) for up to %d dimensions", t._dim)
  end
  local r = t
  for d = 1, #args / 2 do
    local n = t._size[d]
    local a, b = args[2 * d - 1], args[2 * d]
    if type(a) ~= "number" or type(b) ~= "number" then
      fail(t, "sub", "expects numbers (first, last), got (%s, %s)", torch.type(a), torch.type(b))
    end
    if a < 0 then a = n + a + 1 end
    if b < 0 then b = n + b + 1 end
    a, b = floor(a), floor(b)
    if not (a >= 1 and b <= n and a <= b) then
      fail(t, "sub", "range [%s, %s] out of dimension %d of size %d", tostring(args[2 * d - 1]),
           tostring(args[2 * d]), d, n)
    end
    r = M.narrow(r, d, a, b - a + 1)
  end
  if r == t then r = view_of(t, t._offset, {unpack(t._size)}, {unpack(t._stride)}) end
  return r
end

function M.transpose(t, d1, d2)
  check_dim(t, "transpose", d1)
  check_dim(t, "transpose", d2)
  local sz, st = {unpack(t._size)}, {unpack(t._stride)}
  sz[d1], sz[d2] = sz[d2], sz[d1]
  st[d1], st[d2] = st[d2], st[d1]
  return view_of(t, t._offset, sz, st)
end

function M.t(t)
  if t._dim ~= 2 then fail(t, "t", "expects a 2D tensor, got %dD (use transpose)", t._dim) end
  return M.transpose(t, 1, 2)
end

function M.permute(t, ...)
  local p = {...}
  if #p ~= t._dim then fail(t, "permute", "expects %d dimensions, got %d", t._dim, #p) end
  local seen, sz, st = {}, {}, {}
  for i = 1, #p do
    local d = p[i]
    if type(d) ~= "number" or d < 1 or d > t._dim or seen[d] then
      fail(t, "permute", "%s is not a permutation of 1..%d", table.concat(p, ","), t._dim)
    end
    seen[d] = true
    sz[i], st[i] = t._size[d], t._stride[d]
  end
  return view_of(t, t._offset, sz, st)
end

function M.unfold(t, dim, size, step)
  check_dim(t, "unfold", dim)
  if type(size) ~= "number" or type(step) ~= "number" or not (size >= 1 and size <= t._size[dim] and step >= 1)
      or size ~= floor(size) or step ~= floor(step) then
    fail(t, "unfold", "expects a size in [1, %d] (dimension %d) and a step >= 1, got size %s, step %s",
         t._size[dim], dim, tostring(size), tostring(step))
  end
  local sz, st = {unpack(t._size)}, {unpack(t._stride)}
  sz[#sz + 1], st[#st + 1] = size, t._stride[dim]
  sz[dim] = floor((t._size[dim] - size) / step) + 1
  st[dim] = t._stride[dim] * step
  return view_of(t, t._offset, sz, st)
end

-- `result:f(src, ...)` forms of Torch7's Lua methods: point result at the view.
local function into(result, v)
  result._storage, result._offset, result._dim = v._storage, v._offset, v._dim
  result._size, result._stride = v._size, v._stride
  return result
end

local function view(t, ...)
  local size = size_args("view", tname(t), ...)
  local n, infer = numel(t._size), nil
  local known = 1
  for i = 1, #size do
    if size[i] ~= -1 then size[i] = torch._truncateSize(size[i]) or size[i] end
    if size[i] == -1 then
      if infer then fail(t, "view", "only one dimension can be inferred (-1)") end
      infer = i
    elseif size[i] < 0 or size[i] ~= floor(size[i]) then
      fail(t, "view", "size %d must be a positive integer or -1, got %s", i, tostring(size[i]))
    else
      known = known * size[i]
    end
  end
  if infer then
    if known == 0 or n % known ~= 0 then
      fail(t, "view", "cannot infer a size for %d elements from %s", n, table.concat(size, "x"))
    end
    size[infer] = n / known
  end
  if numel(size) ~= n then
    fail(t, "view", "size %s has %d elements, the tensor %d", table.concat(size, "x"), numel(size), n)
  end
  if not M.isContiguous(t) then
    fail(t, "view", "the tensor is not contiguous (call :contiguous() first)")
  end
  return view_of(t, t._offset, size, contiguous_strides(size))
end

function M.view(t, src, ...)
  if is_tensor(src) then return into(t, view(src, ...)) end
  return view(t, src, ...)
end

function M.viewAs(t, src, template)
  if template ~= nil then return into(t, view(src, {unpack(template._size)})) end
  if not is_tensor(src) then fail(t, "viewAs", "expects a tensor, got %s", torch.type(src)) end
  return view(t, {unpack(src._size)})
end

local function expand(t, ...)
  local size = size_args("expand", tname(t), ...)
  if #size < t._dim then fail(t, "expand", "expects at least %d sizes, got %d", t._dim, #size) end
  if t._dim == 0 then fail(t, "expand", "cannot expand an empty tensor") end
  local lead = #size - t._dim
  local sz, st = {}, {}
  for i = 1, #size do
    local j = i - lead
    local cur = j >= 1 and t._size[j] or 1
    if cur == size[i] or (size[i] == -1 and j >= 1) then
      sz[i], st[i] = cur, j >= 1 and t._stride[j] or 0
    elseif cur == 1 and size[i] >= 1 then
      sz[i], st[i] = size[i], 0
    else
      fail(t, "expand", "dimension %d has size %d, which cannot expand to %s (only size 1 expands)",
           i, cur, tostring(size[i]))
    end
  end
  return view_of(t, t._offset, sz, st)
end

function M.expand(t, src, ...)
  if is_tensor(src) then return into(t, expand(src, ...)) end
  return expand(t, src, ...)
end

function M.expandAs(t, src, template)
  if template ~= nil then return into(t, expand(src, {unpack(template._size)})) end
  if not is_tensor(src) then fail(t, "expandAs", "expects a tensor, got %s", torch.type(src)) end
  return expand(t, {unpack(src._size)})
end

function M.squeeze(t, dim)
  local sz, st = {}, {}
  if dim ~= nil then
    check_dim(t, "squeeze", dim)
    for i = 1, t._dim do
      if i ~= dim or t._size[i] ~= 1 then sz[#sz + 1], st[#st + 1] = t._size[i], t._stride[i] end
    end
  else
    for i = 1, t._dim do
      if t._size[i] ~= 1 then sz[#sz + 1], st[#st + 1] = t._size[i], t._stride[i] end
    end
  end
  if #sz == 0 and t._dim > 0 then sz, st = {1}, {1} end
  if #sz == 1 and sz[1] == 1 then
    -- as Torch7's TensorMath wrapper: a result of one element is that number
    return get_element(t, t._offset)
  end
  return view_of(t, t._offset, sz, st)
end

function M.unsqueeze(t, dim)
  check_dim(t, "unsqueeze", dim, 1)
  local sz, st = {unpack(t._size)}, {unpack(t._stride)}
  local s = dim <= t._dim and t._size[dim] * t._stride[dim] or 1
  table.insert(sz, dim, 1)
  table.insert(st, dim, s)
  return view_of(t, t._offset, sz, st)
end

local function split(t, size, dim)
  dim = dim or 1
  check_dim(t, "split", dim)
  if type(size) ~= "number" or size < 1 or size ~= floor(size) then
    fail(t, "split", "split size must be a positive integer, got %s", tostring(size))
  end
  local out, n, i = {}, t._size[dim], 1
  while i <= n do
    local len = math.min(size, n - i + 1)
    out[#out + 1] = M.narrow(t, dim, i, len)
    i = i + len
  end
  return out
end

local function chunk(t, n, dim)
  dim = dim or 1
  check_dim(t, "chunk", dim)
  if type(n) ~= "number" or n < 1 or n ~= floor(n) then
    fail(t, "chunk", "the number of chunks must be a positive integer, got %s", tostring(n))
  end
  return split(t, math.ceil(t._size[dim] / n), dim)
end

-- t:split(size [, dim]) or torch.split([result,] t, size [, dim]): a table of views.
local function fill_result(result, parts)
  for k in pairs(result) do result[k] = nil end
  for i = 1, #parts do result[i] = parts[i] end
  return result
end
function M.split(t, a, b, c)
  if is_tensor(t) then return split(t, a, b) end
  return fill_result(t, split(a, b, c))
end
function M.chunk(t, a, b, c)
  if is_tensor(t) then return chunk(t, a, b) end
  return fill_result(t, chunk(a, b, c))
end

---------------------------------------------------------------- filling and copying
local function writable(t, fname)
  if t._storage._readonly then
    fail(t, fname, "the tensor is read-only (its memory belongs to a read-only numpy array)")
  end
end
torch._writable = writable

function M.fill(t, v)
  writable(t, "fill")
  if type(v) ~= "number" then fail(t, "fill", "expects a number, got %s", torch.type(v)) end
  if M.isContiguous(t) then
    check_view(t, "fill")
    local d, n = t._storage._data + t._offset, numel(t._size)
    for i = 0, n - 1 do d[i] = v end
  else
    apply1(t, function(d, i) d[i] = v end)
  end
  return t
end

function M.zero(t)
  writable(t, "zero")
  if M.isContiguous(t) then
    local n = numel(t._size)
    check_view(t, "zero")
    if n > 0 then ffi.fill(t._storage._data + t._offset, n * rec_of(t).size, 0) end
    return t
  end
  return M.fill(t, 0)
end

function M.copy(t, src)
  writable(t, "copy")
  if not is_tensor(src) then
    if is_storage(src) then src = torch._getrec(src).Tensor(src) else
      fail(t, "copy", "expects a tensor, got %s", torch.type(src))
    end
  end
  local n = numel(t._size)
  if n ~= numel(src._size) then
    fail(t, "copy", "sizes do not match: %d elements vs %d", n, numel(src._size))
  end
  if n == 0 then return t end
  check_view(t, "copy"); check_view(src, "copy")
  local same_type = getmetatable(src) == getmetatable(t)
  if same_type and M.isContiguous(t) and M.isContiguous(src) then
    local esz = rec_of(t).size
    ffi.C.memmove(t._storage._data + t._offset, src._storage._data + src._offset, n * esz)
    return t
  end
  if rec_of(t).half and not rec_of(src).half then
    -- into a HalfTensor: each value rounded to the nearest half, as Torch7 stores it
    apply2(t, src, function(d, i, s, j) d[i] = half_round(s[j]) end)
    return t
  end
  if M.isContiguous(t) and M.isContiguous(src) then
    local d, s = t._storage._data + t._offset, src._storage._data + src._offset
    local to_int = rec_of(t).integral and not rec_of(src).integral
    if to_int and rec_of(t).ctype == "uint8_t" then
      for i = 0, n - 1 do d[i] = ffi.cast("int64_t", s[i]) end
    else
      for i = 0, n - 1 do d[i] = s[i] end
    end
    return t
  end
  apply2(t, src, function(d, i, s, j) d[i] = s[j] end)
  return t
end

function M.apply(t, f)
  if type(f) ~= "function" then fail(t, "apply", "expects a function, got %s", torch.type(f)) end
  local long = rec_of(t).long
  local ro = t._storage._readonly
  apply1(t, function(d, i)
    local v = d[i]
    if long then v = tonumber(v) end
    local r = f(v)
    if r ~= nil then
      if type(r) ~= "number" then fail(t, "apply", "the function must return a number or nil, got %s", type(r)) end
      if ro then writable(t, "apply") end
      d[i] = r
    end
  end)
  return t
end

function M.map(t, other, f)
  if not is_tensor(other) or type(f) ~= "function" then
    fail(t, "map", "expects (tensor, function), got (%s, %s)", torch.type(other), torch.type(f))
  end
  local la, lb = rec_of(t).long, rec_of(other).long
  local ro = t._storage._readonly
  apply2(t, other, function(d, i, s, j)
    local a, b = d[i], s[j]
    if la then a = tonumber(a) end
    if lb then b = tonumber(b) end
    local r = f(a, b)
    if r ~= nil then
      if type(r) ~= "number" then fail(t, "map", "the function must return a number or nil, got %s", type(r)) end
      if ro then writable(t, "map") end
      d[i] = r
    end
  end)
  return t
end

function M.map2(t, b, c, f)
  if not is_tensor(b) or not is_tensor(c) or type(f) ~= "function" then
    fail(t, "map2", "expects (tensor, tensor, function), got (%s, %s, %s)", torch.type(b), torch.type(c), torch.type(f))
  end
  local la, lb, lc = rec_of(t).long, rec_of(b).long, rec_of(c).long
  local ro = t._storage._readonly
  apply3(t, b, c, function(d, i, e, j, g, k)
    local x, y, z = d[i], e[j], g[k]
    if la then x = tonumber(x) end
    if lb then y = tonumber(y) end
    if lc then z = tonumber(z) end
    local r = f(x, y, z)
    if r ~= nil then
      if type(r) ~= "number" then fail(t, "map2", "the function must return a number or nil, got %s", type(r)) end
      if ro then writable(t, "map2") end
      d[i] = r
    end
  end)
  return t
end

function M.totable(t)
  if t._dim == 0 then return {} end
  local function rec(v, d)
    local out = {}
    if d == t._dim then
      for i = 1, v._size[1] do out[i] = M.select(v, 1, i) end
    else
      for i = 1, v._size[1] do out[i] = rec(M.select(v, 1, i), d + 1) end
    end
    return out
  end
  return rec(t, 1)
end

function torch.totable(x)
  if is_tensor(x) or is_storage(x) then return x:totable() end
  raise("<torch.totable> expects a tensor or a storage, got " .. torch.type(x))
end

function M.equal(a, b)
  if not is_tensor(b) or not M.isSameSizeAs(a, b) then return false end
  local eq = true
  local la, lb = rec_of(a).long, rec_of(b).long
  apply2(a, b, function(d, i, s, j)
    local x, y = d[i], s[j]
    if la then x = tonumber(x) end
    if lb then y = tonumber(y) end
    if x ~= y then eq = false end
  end)
  return eq
end

---------------------------------------------------------------- printing
-- Torch7's printing (Tensor.lua: Tensor__printMatrix, Tensor__printTensor, __tostring__).
-- m is a contiguous 2D DoubleTensor; the format comes from all the printed values.
local function print_matrix(m, fmt, scale, width, indent)
  local out = {indent}
  local rows, cols = m._size[1], m._size[2]
  local data, base, rs = m._storage._data, m._offset, m._stride[1]
  local perLine = floor((80 - #indent) / (width + 1))   -- NaN when width is
  local div = scale or 1
  local first = 1
  while first <= cols do
    local last = cols
    if first + perLine - 1 <= cols then last = first + perLine - 1 end
    if perLine < cols then
      if first ~= 1 then out[#out + 1] = "\n" end
      out[#out + 1] = "Columns " .. first .. " to " .. last .. "\n" .. indent
    end
    if scale then out[#out + 1] = string.format("%g", scale) .. " *\n " .. indent end
    for r = 1, rows do
      local row = base + (r - 1) * rs
      for c = first, last do
        out[#out + 1] = string.format(fmt, data[row + c - 1] / div)
        if c == last then
          out[#out + 1] = "\n"
          if r ~= rows then out[#out + 1] = scale and (indent .. " ") or indent end
        else
          out[#out + 1] = " "
        end
      end
    end
    first = last + 1
  end
  return table.concat(out)
end

function M.__tostring__(t)
  local name = tname(t)
  if t._dim == 0 then return "[" .. name .. " with no dimension]\n" end
  local d = result_like(types.Double, t._size):copy(t)
  local n = numel(d._size)
  local data = d._storage._data
  local fmt, scale, width = torch._printformat(data, n)
  local parts = {}
  if t._dim == 1 then
    if scale then parts[1] = string.format("%g", scale) .. " *\n" end
    local div = scale or 1
    for i = 0, n - 1 do
      parts[#parts + 1] = string.format(fmt, data[i] / div) .. "\n"
    end
  elseif t._dim == 2 then
    parts[1] = print_matrix(d, fmt, scale, width, "")
  else
    local nd = t._dim
    local counter = {}
    for i = 1, nd - 2 do counter[i] = 1 end
    counter[1] = 0
    local s = {}
    while true do
      local done = false
      for i = 1, nd - 2 do
        counter[i] = counter[i] + 1
        if counter[i] > d._size[i] then
          if i == nd - 2 then done = true; break end
          counter[i] = 1
        else
          break
        end
      end
      if done then break end
      if #s > 0 then s[#s + 1] = "\n" end
      s[#s + 1] = "("
      local m = d
      for i = 1, nd - 2 do
        m = M.select(m, 1, counter[i])
        s[#s + 1] = counter[i] .. ","
      end
      s[#s + 1] = ".,.) = \n"
      s[#s + 1] = print_matrix(m, fmt, scale, width, " ")
    end
    parts[1] = table.concat(s)
  end
  parts[#parts + 1] = "[" .. name .. " of size " .. table.concat(t._size, "x") .. "]\n"
  return table.concat(parts)
end

---------------------------------------------------------------- indexing t[k]
-- Resolve an index table {i, {a, b}, {}, ...} into a view or an element offset.
-- Resolve an index table {i, {a, b}, {a}, {}, ...} (or a LongStorage of indices) into a
-- view, or (all numbers, one per dimension) into the element's storage index.
local function index_view(t, k, fname)
  if is_storage(k) then
    if k._size ~= t._dim then
      fail(t, fname, "a LongStorage index needs %d values, got %d", t._dim, k._size)
    end
    k = k:totable()
  end
  local offset = t._offset
  local sz, st = {}, {}
  local nk, all_numbers = #k, true
  if nk > t._dim then fail(t, fname, "%d indices for a %dD tensor", nk, t._dim) end
  for i = 1, nk do
    local v = k[i]
    local n = t._size[i]
    if type(v) == "number" then
      if v < 0 then v = n + v + 1 end
      if not (v >= 1 and v <= n) then
        fail(t, fname, "index %s out of range of dimension %d (size %d)", tostring(k[i]), i, n)
      end
      offset = offset + (floor(v) - 1) * t._stride[i]
    elseif type(v) == "table" and not is_tensor(v) then
      all_numbers = false
      local a, b = v[1] or 1, v[2] or v[1] or n
      if type(a) ~= "number" or type(b) ~= "number" then
        fail(t, fname, "range %d must hold numbers {first, last}, got {%s, %s}", i, tostring(v[1]), tostring(v[2]))
      end
      if a < 0 then a = n + a + 1 end
      if b < 0 then b = n + b + 1 end
      a, b = floor(a), floor(b)
      if not (a >= 1 and a <= n and b >= 1 and b <= n and b >= a) then
        fail(t, fname, "range {%s, %s} out of dimension %d (size %d)", tostring(v[1]), tostring(v[2]), i, n)
      end
      offset = offset + (a - 1) * t._stride[i]
      sz[#sz + 1], st[#st + 1] = b - a + 1, t._stride[i]
    else
      fail(t, fname, "index %d must be a number or a {first, last} table, got %s", i, torch.type(v))
    end
  end
  for i = nk + 1, t._dim do
    all_numbers = false
    sz[#sz + 1], st[#st + 1] = t._size[i], t._stride[i]
  end
  if all_numbers then
    if nk == 0 then return view_of(t, offset, sz, st) end
    return nil, offset
  end
  return view_of(t, offset, sz, st)
end

local function make_index(mt, rec)
  local long = rec.long
  local byte_rec = types.Byte
  return function(t, k)
    local f = F[t]
    local v = f[k]          -- a field
    if v ~= nil then return v end
    local m = mt[k]         -- a method
    if m ~= nil then return m end
    local tk = type(k)
    if tk == "number" then
      local dim = f._dim
      if dim == 1 then
        local n = f._size[1]
        if k < 0 then k = n + k + 1 end
        if not (k >= 1 and k <= n) then
          error(string.format("<%s> index %s out of range [1, %d]", rec.tname, tostring(k), n), 2)
        end
        k = floor(k)
        local st = f._storage
        v = st._data[element_index(st, f._offset + (k - 1) * f._stride[1], rec.tname)]
        if long then return tonumber(v) end
        return v
      end
      if dim == 0 then error(string.format("<%s> cannot index an empty tensor", rec.tname), 2) end
      return M.select(t, 1, k)
    elseif tk == "userdata" and is_tensor(k) then
      if rec_of(k) == byte_rec then
        return t:maskedSelect(k)
      end
      return t:index(1, k)
    elseif tk == "table" or is_storage(k) then
      local view, off = index_view(t, k, "__index")
      if view then return view end
      local st = t._storage
      local v = st._data[element_index(st, off, rec.tname)]
      if long then return tonumber(v) end
      return v
    end
    return nil
  end
end

local function make_newindex(mt, rec)
  return function(t, k, v)
    local tk = type(k)
    if tk == "number" then
      writable(t, "__newindex")
      if t._dim == 1 then
        local n = t._size[1]
        if k < 0 then k = n + k + 1 end
        if not (k >= 1 and k <= n) then
          error(string.format("<%s> index %s out of range [1, %d]", rec.tname, tostring(k), n), 2)
        end
        k = floor(k)
        if type(v) ~= "number" then
          if is_tensor(v) then M.copy(M.narrow(t, 1, k, 1), v); return end
          error(string.format("<%s> cannot assign a %s to an element", rec.tname, torch.type(v)), 2)
        end
        local st = t._storage
        st._data[element_index(st, t._offset + (k - 1) * t._stride[1], rec.tname)] = v
        return
      end
      local s = M.select(t, 1, k)
      if type(v) == "number" then M.fill(s, v) else M.copy(s, v) end
      return
    elseif tk == "userdata" and is_tensor(k) then
      writable(t, "__newindex")
      if type(v) == "number" then return t:maskedFill(k, v) end
      return t:maskedCopy(k, v)
    elseif tk == "table" or is_storage(k) then
      writable(t, "__newindex")
      local view, off = index_view(t, k, "__newindex")
      if view then
        if type(v) == "number" then M.fill(view, v) else M.copy(view, v) end
      else
        if type(v) ~= "number" then
          error(string.format("<%s> cannot assign a %s to an element", rec.tname, torch.type(v)), 2)
        end
        local st = t._storage
        st._data[element_index(st, off, rec.tname)] = v
      end
      return
    end
    F[t][k] = v
    P[t] = nil
  end
end

---------------------------------------------------------------- the classes
for _, rec in ipairs(types) do
  local mt = torch._objectMetatable()   -- of every tensor of this type (userdata)
  for k, v in pairs(M) do mt[k] = v end
  mt.__typename = rec.tname
  mt._isTensor = true
  mt._rec = rec
  -- t.new(...) is the type's constructor (Torch7: the metatable's `new`): t.new() is a new
  -- empty tensor, and t:new() passes t itself, so it is a new tensor viewing t's storage.
  mt.new = function(...) return construct(rec, ...) end
  mt.__index = make_index(mt, rec)
  mt.__newindex = make_newindex(mt, rec)
  mt.__len = function(t) return M.size(t) end
  mt.__tostring = function(t) return t:__tostring__() end
  mt.__metatable_rec = rec
  local ctor = setmetatable({__metatable_rec = rec}, {
    __index = mt, __newindex = mt, __metatable = mt,
    __tostring = function() return rec.tname end,
    __call = function(_, ...) return construct(rec, ...) end,
  })
  rec.Tensor = ctor
  rec.Tensor_mt = mt
  torch[rec.name .. "Tensor"] = ctor
  torch._register(rec.tname, mt, ctor)
end

torch._typeof = torch._getrec      -- the type record of a tensor or storage (design-tensor.md)

-- torch.f(t, ...) forms of Torch7's Lua-defined tensor methods (math may add more).
for _, name in ipairs {"view", "viewAs", "expand", "expandAs", "split", "chunk", "permute"} do
  if torch[name] == nil then torch[name] = M[name] end
end

-- Torch7 exposes storage of sizes as LongStorage; printing needs DoubleTensor.
torch._tensorMethods = M

-- The numpy bridge (sparktorch7/_tensor.pxi) finds tensor and storage classes here.
local registry = debug.getregistry()
local codes = {}
for _, rec in ipairs(types) do     -- HalfTensor shares Float's code: float32 memory
  codes[rec.Tensor_mt] = rec.code
  codes[rec.Storage_mt] = rec.code + 10
end
registry["sparktorch7.tensor_mts"] = codes

-- What the bridge's C code needs, interned once (slots in sparktorch7/_tensor.pxi).
local bridge = {"_storage", "_offset", "_size", "_stride", "_dim", "_addr", "_owner", "_readonly", "_esize"}
for _, rec in ipairs(types) do     -- arrays from numpy: the first type of each code
  if types[rec.code] == rec then
    bridge[10 + rec.code] = rec.Tensor_mt
    bridge[20 + rec.code] = rec.Storage_mt
  end
end
bridge[30] = setmetatable({}, {__mode = "v"})   -- ndarray -> its storage, while alive
bridge[31] = F                                  -- tensor or storage -> its fields
bridge[32] = setmetatable({}, {__mode = "v"})   -- ndarray -> the last tensor made for it
bridge[33] = torch._pristine                    -- bridge-made objects whose fields are unchanged
bridge[34] = codes                              -- tensor/storage metatable -> dtype code
registry["sparktorch7.bridge"] = bridge

-- tensor -> ndarray of memory the runtime allocated: the bridge hands the block over to
-- a Python owner (pyowner, kept in the storage), so arrays outlive the Lua state.
-- Returns the block's address (nil when the memory is not a block of torch._alloc or a
-- file mapping), and for a mapping its length in bytes and its shared-memory name.
function torch._adopt(s, pyowner)
  local root = s
  while is_storage(root._owner) do root = root._owner end
  local o = root._owner
  local block = type(o) == "cdata" and torch._blocks[o]
  if not block then return nil end
  torch._blocks[o] = nil
  ffi.gc(o, nil)
  root._owner = pyowner
  local addr = tonumber(ffi.cast("intptr_t", o))
  if type(block) == "table" then return addr, block.bytes, block.shm end
  return addr
end
registry["sparktorch7.adopt"] = torch._adopt
