-- Shared machinery of TensorMath: type lookup, argument errors, results, strided kernels.
local ffi = require 'ffi'
local torch = _G.torch

local U = {}

---------------------------------------------------------------- types
local byTname = {}        -- 'torch.DoubleTensor' -> record
local byName = {}         -- 'Double' -> record
local recs = {}

function U.refreshTypes()
   for i, rec in ipairs(torch._types) do
      recs[i] = rec
      byTname[rec.tname] = rec
      byName[rec.name] = rec
   end
end
U.refreshTypes()
U.recs, U.byName, U.byTname = recs, byName, byTname

-- record of a tensor, or nil for anything else (storages, numbers, tables, classes)
local function recOf(x)
   if type(x) ~= 'userdata' then return nil end
   local mt = getmetatable(x)
   if type(mt) ~= 'table' or rawget(mt, '_isTensor') ~= true then return nil end
   return rawget(mt, '_rec')
end
U.recOf = recOf

function U.isTensor(x) return recOf(x) ~= nil end

function U.defaultRec()
   local ok, name = pcall(function() return torch.getdefaulttensortype() end)
   return (ok and byTname[name]) or byName.Double
end

---------------------------------------------------------------- errors
-- The error blames the first caller outside the TensorMath files.
local myFiles = { 'TensorMath%.lua$', 'math_%w+%.lua$', '/random%.lua$', '/lapack%.lua$', '/conv%.lua$' }
local function isMine(src)
   for _, p in ipairs(myFiles) do
      if src:find(p) then return true end
   end
   return false
end

function U.error(fname, msg)
   local level = 2
   while true do
      local info = debug.getinfo(level, 'S')
      if info == nil then level = 0; break end
      if info.what ~= 'C' and info.what ~= 'tail' and not isMine(info.source) then break end
      level = level + 1
   end
   error(string.format('<torch.%s> %s', fname, msg), level)
end

local function sizeStr(t)
   if t._dim == 0 then return 'empty' end
   return table.concat(t._size, 'x', 1, t._dim)
end
U.sizeStr = sizeStr

-- describe a value for an error message
function U.what(x)
   local rec = recOf(x)
   if rec then return rec.tname .. ' of size ' .. sizeStr(x) end
   if type(x) == 'number' then return 'number ' .. tostring(x) end
   if type(x) == 'string' then return 'string "' .. x .. '"' end
   if (type(x) == 'table' or type(x) == 'userdata') and getmetatable(x) and torch.typename then
      local ok, tn = pcall(torch.typename, x)
      if ok and tn then return tn end
   end
   return type(x)
end

-- describe an argument list: (torch.DoubleTensor of size 3, number 2)
function U.argsStr(...)
   local n = select('#', ...)
   while n > 0 and select(n, ...) == nil do n = n - 1 end
   local parts = {}
   for i = 1, n do parts[i] = U.what((select(i, ...))) end
   return '(' .. table.concat(parts, ', ') .. ')'
end

function U.badArgs(fname, expected, ...)
   U.error(fname, 'invalid arguments ' .. U.argsStr(...) .. '; expected ' .. expected)
end

---------------------------------------------------------------- shapes
local function nElement(t)
   if t._dim == 0 then return 0 end
   local n = 1
   local s = t._size
   for i = 1, t._dim do n = n * s[i] end
   return n
end
U.nElement = nElement

local function isContiguous(t)
   local z = 1
   local s, st = t._size, t._stride
   for i = t._dim, 1, -1 do
      if s[i] ~= 1 then
         if st[i] ~= z then return false end
         z = z * s[i]
      end
   end
   return true
end
U.isContiguous = isContiguous

function U.sizes(t)
   local r = {}
   for i = 1, t._dim do r[i] = t._size[i] end
   return r
end

function U.sameSize(a, b)
   if a._dim ~= b._dim then return false end
   for i = 1, a._dim do
      if a._size[i] ~= b._size[i] then return false end
   end
   return true
end

local function contiguousStrides(sizes)
   local stride, z = {}, 1
   for i = #sizes, 1, -1 do
      stride[i] = z
      z = z * sizes[i]
   end
   return stride, z
end
U.contiguousStrides = contiguousStrides

local function newStorage(rec, n)
   return rec.Storage(n)
end

-- a new contiguous tensor (contents unspecified)
function U.new(rec, sizes)
   local sz = {}
   for i = 1, #sizes do sz[i] = sizes[i] end
   local stride, n = contiguousStrides(sz)
   if #sz == 0 then n = 0 end
   return torch._newTensor(rec, newStorage(rec, n), 0, sz, stride)
end

function U.newEmpty(rec)
   return torch._newTensor(rec, newStorage(rec, 0), 0, {}, {})
end

-- Torch's resize: keep the view when the sizes already match, else make the
-- tensor contiguous with those sizes, growing the storage when needed.
function U.resize(t, sizes)
   local d = #sizes
   if t._dim == d then
      local same = true
      for i = 1, d do
         if t._size[i] ~= sizes[i] then same = false; break end
      end
      if same then return t end
   end
   local sz = {}
   for i = 1, d do
      if sizes[i] < 0 then U.error('resize', 'negative size ' .. sizes[i]) end
      sz[i] = sizes[i]
   end
   local stride, n = contiguousStrides(sz)
   if d == 0 then n = 0 end
   local st = t._storage
   if st == nil or st._size < t._offset + n then
      -- a fresh storage: the old one may be shared with other views or with numpy
      t._storage = newStorage(recOf(t), n)
      t._offset = 0
   end
   t._size, t._stride, t._dim = sz, stride, d
   return t
end

function U.resizeAs(t, src) return U.resize(t, src._size and U.sizes(src) or src) end

-- a view of a contiguous tensor with other sizes
function U.viewContig(t, sizes)
   local rec = recOf(t)
   local sz = {}
   for i = 1, #sizes do sz[i] = sizes[i] end
   local stride = contiguousStrides(sz)
   return torch._newTensor(rec, t._storage, t._offset, sz, stride)
end

-- a raw view with given offset/sizes/strides over t's storage
function U.view(t, offset, sizes, strides)
   return torch._newTensor(recOf(t), t._storage, offset, sizes, strides)
end

function U.checkWritable(fname, t)
   if t._storage._readonly then
      U.error(fname, 'the result tensor is read-only (it views a read-only numpy array)')
   end
end

---------------------------------------------------------------- kernels
-- A kernel is generated from a statement template over up to four tensors:
-- !R writes the result element, @R @X @Y @Z read the current elements of the
-- result and of sources X, Y, Z; S1..S4 are scalars; S1 is returned (accumulator).
local H = {
   tonumber = tonumber, floor = math.floor, ceil = math.ceil, abs = math.abs,
   sqrt = math.sqrt, exp = math.exp, log = math.log, sin = math.sin, cos = math.cos,
   tan = math.tan, asin = math.asin, acos = math.acos, atan = math.atan,
   atan2 = math.atan2, sinh = math.sinh, cosh = math.cosh, tanh = math.tanh,
   fmod = math.fmod, pow = math.pow, huge = math.huge, min = math.min, max = math.max,
   band = bit.band, bor = bit.bor, bxor = bit.bxor, lshift = bit.lshift, rshift = bit.rshift,
   arshift = bit.arshift, tobit = bit.tobit,
}
local log1p_c
pcall(function()
   ffi.cdef 'double log1p(double x);'
   log1p_c = ffi.C.log1p
   log1p_c(0.5)
end)
H.log1p = log1p_c or function(x)
   local u = 1 + x
   if u == 1 then return x end
   return math.log(u) * x / (u - 1)
end
U.H = H

-- kernels see every helper of H as a local (H may grow: random.lua adds generators)
local function prelude()
   local names = {}
   for k in pairs(H) do names[#names + 1] = k end
   table.sort(names)
   local lines = { 'local H = ...' }
   for _, k in ipairs(names) do lines[#lines + 1] = string.format('local %s = H.%s', k, k) end
   return table.concat(lines, '\n') .. '\n'
end

local isLong = {}
for _, rec in ipairs(recs) do isLong[rec] = (rec.ctype == 'int64_t') end

local kcache = {}
local slot = { R = 'a', X = 'b', Y = 'c', Z = 'd' }

-- generate the kernel of stmt for the given int64 flags (slow path, once per key)
local function compile(stmt, byFlags, flags, lr, lx, ly, lz)
   local longs = { a = lr, b = lx, c = ly, d = lz }
   local used = {}
   local body = stmt:gsub('@([RXYZ]){(%w+)}', function(v, idx)   -- read at another offset
      local s = slot[v]; used[s] = true
      if longs[s] then return 'tonumber(p' .. s .. '[' .. idx .. '])' end
      return 'p' .. s .. '[' .. idx .. ']'
   end):gsub('!([RXYZ])', function(v)
      local s = slot[v]; used[s] = true
      return 'p' .. s .. '[o' .. s .. ']'
   end):gsub('#([RXYZ])', function(v)   -- raw read (int64 stays boxed)
      local s = slot[v]; used[s] = true
      return 'p' .. s .. '[o' .. s .. ']'
   end):gsub('@([RXYZ])', function(v)
      local s = slot[v]; used[s] = true
      if longs[s] then return 'tonumber(p' .. s .. '[o' .. s .. '])' end
      return 'p' .. s .. '[o' .. s .. ']'
   end)
   local adv = {}
   for _, s in ipairs({ 'a', 'b', 'c', 'd' }) do
      if used[s] then adv[#adv + 1] = 'o' .. s .. ' = o' .. s .. ' + i' .. s end
   end
   local src = prelude() ..
      'return function(n, pa, oa, ia, pb, ob, ib, pc, oc, ic, pd, od, id, S1, S2, S3, S4)\n' ..
      '  for _ = 1, n do\n    ' .. body .. '\n    ' .. table.concat(adv, '; ') .. '\n  end\n' ..
      '  return S1\nend\n'
   local chunk, err = loadstring(src, '=TensorMath kernel')
   if not chunk then error('TensorMath internal kernel error: ' .. err .. '\n' .. src) end
   local k = chunk(H)
   byFlags[flags] = k
   return k
end

-- the kernel of stmt for tensors r, x, y, z (or nil): cached per int64 layout.
-- Kept free of closures so that it compiles into the callers' traces.
function U.kernel(stmt, r, x, y, z)
   local lr, lx = isLong[recOf(r)], x and isLong[recOf(x)]
   local ly, lz = y and isLong[recOf(y)], z and isLong[recOf(z)]
   local flags = (lr and 1 or 0) + (lx and 2 or 0) + (ly and 4 or 0) + (lz and 8 or 0)
   local byFlags = kcache[stmt]
   if byFlags == nil then
      byFlags = {}
      kcache[stmt] = byFlags
   end
   local k = byFlags[flags]
   if k then return k end
   return compile(stmt, byFlags, flags, lr, lx, ly, lz)
end

-- Every kernel checks, once per call, that the elements it walks lie in each tensor's
-- storage (torch._viewProblem, the rule the .t7 reader and the numpy bridge use). The
-- tensors b, c, d are walked with a's sizes, so they are checked with a's sizes.
local viewProblem = torch._viewProblem
local function checkWalk(t, size, dim)
   local st = t._storage
   local why = viewProblem(st and st._size or 0, t._offset, size, t._stride, dim)
   if why then
      U.error('apply', 'a ' .. (torch.typename(t) or 'tensor') .. ' cannot be used: ' .. why ..
         ' (was its storage resized under it, or was it set past the storage\'s end?)')
   end
end
U.checkWalk = checkWalk
function U.checkView(t) checkWalk(t, t._size, t._dim) end

-- Run kernel k over same-shaped tensors a (b, c, d), row by row, merging
-- dimensions that are laid out back to back. Returns the final S1.
function U.apply(k, a, b, c, d, S1, S2, S3, S4)
   local dim = a._dim
   if dim == 0 then return S1 end
   local asz = a._size
   checkWalk(a, asz, dim)
   if b then checkWalk(b, asz, dim) end
   if c then checkWalk(c, asz, dim) end
   if d then checkWalk(d, asz, dim) end
   if dim == 1 then
      -- one dimension: a single strided run
      local n = a._size[1]
      if n == 0 then return S1 end
      local pb, ob, ib, pc, oc, ic, pd, od, id = nil, 0, 0, nil, 0, 0, nil, 0, 0
      if b then pb, ob, ib = b._storage._data, b._offset, b._stride[1] end
      if c then pc, oc, ic = c._storage._data, c._offset, c._stride[1] end
      if d then pd, od, id = d._storage._data, d._offset, d._stride[1] end
      return k(n, a._storage._data, a._offset, a._stride[1], pb, ob, ib, pc, oc, ic, pd, od, id, S1, S2, S3, S4)
   end
   if isContiguous(a) and (b == nil or isContiguous(b)) and (c == nil or isContiguous(c))
      and (d == nil or isContiguous(d)) then
      local n = nElement(a)
      if n == 0 then return S1 end
      local pb, ob, pc, oc, pd, od = nil, 0, nil, 0, nil, 0
      if b then pb, ob = b._storage._data, b._offset end
      if c then pc, oc = c._storage._data, c._offset end
      if d then pd, od = d._storage._data, d._offset end
      return k(n, a._storage._data, a._offset, 1, pb, ob, 1, pc, oc, 1, pd, od, 1, S1, S2, S3, S4)
   end
   local asz, ast = a._size, a._stride
   local bst, cst, dst = b and b._stride, c and c._stride, d and d._stride
   local sz, sa, sb, sc, sd = {}, {}, {}, {}, {}
   local m = 0
   for i = 1, dim do
      local n = asz[i]
      if n == 0 then return S1 end
      if n ~= 1 then
         local x, y, z, w = ast[i], bst and bst[i] or 0, cst and cst[i] or 0, dst and dst[i] or 0
         if m > 0 and sa[m] == x * n and sb[m] == y * n and sc[m] == z * n and sd[m] == w * n then
            sz[m] = sz[m] * n; sa[m] = x; sb[m] = y; sc[m] = z; sd[m] = w
         else
            m = m + 1
            sz[m] = n; sa[m] = x; sb[m] = y; sc[m] = z; sd[m] = w
         end
      end
   end
   local pa, oa = a._storage._data, a._offset
   local pb, ob = nil, 0
   local pc, oc = nil, 0
   local pd, od = nil, 0
   if b then pb, ob = b._storage._data, b._offset end
   if c then pc, oc = c._storage._data, c._offset end
   if d then pd, od = d._storage._data, d._offset end
   if m == 0 then
      return k(1, pa, oa, 0, pb, ob, 0, pc, oc, 0, pd, od, 0, S1, S2, S3, S4)
   end
   local n, ia, ib, ic, id = sz[m], sa[m], sb[m], sc[m], sd[m]
   if m == 1 then
      return k(n, pa, oa, ia, pb, ob, ib, pc, oc, ic, pd, od, id, S1, S2, S3, S4)
   end
   local cnt = {}
   for j = 1, m - 1 do cnt[j] = 0 end
   while true do
      S1 = k(n, pa, oa, ia, pb, ob, ib, pc, oc, ic, pd, od, id, S1, S2, S3, S4)
      local j = m - 1
      while true do
         local cj = cnt[j] + 1
         oa = oa + sa[j]; ob = ob + sb[j]; oc = oc + sc[j]; od = od + sd[j]
         if cj < sz[j] then cnt[j] = cj; break end
         cnt[j] = 0
         local s = sz[j]
         oa = oa - sa[j] * s; ob = ob - sb[j] * s; oc = oc - sc[j] * s; od = od - sd[j] * s
         j = j - 1
         if j == 0 then return S1 end
      end
   end
end

-- copy src into dst (same number of elements, any shapes/types)
function U.copyInto(dst, src)
   if nElement(dst) ~= nElement(src) then
      U.error('copy', 'inconsistent tensor size: ' .. sizeStr(dst) .. ' and ' .. sizeStr(src))
   end
   src = U.conform('copy', dst, src)
   local raw = isLong[recOf(dst)] and isLong[recOf(src)]
   U.apply(U.kernel(raw and '!R = #X' or '!R = @X', dst, src), dst, src)
   return dst
end

function U.contiguous(t)
   if isContiguous(t) then return t end
   local r = U.new(recOf(t), U.sizes(t))
   U.copyInto(r, t)
   return r
end

function U.clone(t)
   local r = U.new(recOf(t), U.sizes(t))
   U.copyInto(r, t)
   return r
end

-- src seen with ref's shape (same element count): itself, a view, or a copy
function U.conform(fname, ref, src)
   if U.sameSize(ref, src) then return src end
   local n = nElement(ref)
   if n ~= nElement(src) then
      U.error(fname, 'inconsistent tensor size: expected ' .. n .. ' elements (size ' .. sizeStr(ref) ..
         '), got ' .. nElement(src) .. ' (size ' .. sizeStr(src) .. ')')
   end
   if not isContiguous(src) then
      local c = U.new(recOf(src), U.sizes(src))
      U.apply(U.kernel(isLong[recOf(src)] and '!R = #X' or '!R = @X', c, src), c, src)
      src = c
   end
   return U.viewContig(src, U.sizes(ref))
end

-- the number as a `real` of this type, as Torch7's C code sees its scalar
-- arguments: integral types truncate toward zero, Float rounds to single precision
local floatBox = ffi.new('float[1]')
function U.real(rec, v)
   if rec.integral then
      if v == v and v ~= math.huge and v ~= -math.huge then
         if v >= 0 then return math.floor(v) else return math.ceil(v) end
      end
   elseif rec.ctype == 'float' then
      floatBox[0] = v
      return floatBox[0]
   end
   return v
end

function U.fill(t, v)
   U.apply(U.kernel('!R = S2', t), t, nil, nil, nil, nil, v)
   return t
end

-- read element at linear 0-based storage index
function U.get(t, idx)
   local st = t._storage
   if not (idx >= 0 and idx < st._size) then
      U.error('get', 'element ' .. tostring(idx + 1) .. ' is outside the storage of ' .. st._size .. ' elements')
   end
   local v = st._data[idx]
   if isLong[recOf(t)] then return tonumber(v) end
   return v
end
U.isLong = isLong

function U.checkDim(fname, t, d, what)
   if type(d) ~= 'number' or d ~= math.floor(d) then
      U.error(fname, (what or 'dimension') .. ' must be an integer, got ' .. U.what(d))
   end
   if d < 1 or d > t._dim then
      U.error(fname, (what or 'dimension') .. ' ' .. d .. ' out of range for a ' .. t._dim .. 'D tensor (size ' .. sizeStr(t) .. ')')
   end
end

---------------------------------------------------------------- views and slices
function U.select(t, d, i)
   local sz, st = {}, {}
   for j = 1, t._dim do
      if j ~= d then sz[#sz + 1] = t._size[j]; st[#st + 1] = t._stride[j] end
   end
   return U.view(t, t._offset + (i - 1) * t._stride[d], sz, st)
end

function U.narrow(t, d, i, n)
   local sz, st = U.sizes(t), {}
   for j = 1, t._dim do st[j] = t._stride[j] end
   sz[d] = n
   return U.view(t, t._offset + (i - 1) * t._stride[d], sz, st)
end

function U.transpose(t, d1, d2)
   local sz, st = U.sizes(t), {}
   for j = 1, t._dim do st[j] = t._stride[j] end
   sz[d1], sz[d2] = sz[d2], sz[d1]
   st[d1], st[d2] = st[d2], st[d1]
   return U.view(t, t._offset, sz, st)
end

local function without(arr, n, d)
   local r = {}
   for j = 1, n do
      if j ~= d then r[#r + 1] = arr[j] end
   end
   return r
end
U.without = without

-- Call fn(o1, o2, o3) at every position of the index space `sizes`, where ok
-- is the storage offset in tensor k (start offsets o1..o3, strides st1..st3).
function U.each(sizes, fn, st1, o1, st2, o2, st3, o3)
   local m = #sizes
   for j = 1, m do
      if sizes[j] == 0 then return end
   end
   o1, o2, o3 = o1 or 0, o2 or 0, o3 or 0
   if m == 0 then fn(o1, o2, o3); return end
   st1, st2, st3 = st1 or {}, st2 or {}, st3 or {}
   local cnt = {}
   for j = 1, m do cnt[j] = 0 end
   while true do
      fn(o1, o2, o3)
      local j = m
      while true do
         local a, b, c = st1[j] or 0, st2[j] or 0, st3[j] or 0
         o1 = o1 + a; o2 = o2 + b; o3 = o3 + c
         local cj = cnt[j] + 1
         if cj < sizes[j] then cnt[j] = cj; break end
         cnt[j] = 0
         local s = sizes[j]
         o1 = o1 - a * s; o2 = o2 - b * s; o3 = o3 - c * s
         j = j - 1
         if j == 0 then return end
      end
   end
end

-- t seen without dimension d (a 1D tensor becomes one element), for kernels
-- that loop over d themselves
function U.dropDim(t, d)
   if t._dim == 1 then return U.view(t, t._offset, { 1 }, { 0 }) end
   return U.view(t, t._offset, without(t._size, t._dim, d), without(t._stride, t._dim, d))
end

-- For a reduction of x along d: resize res (and res2) to x's sizes with size 1
-- at d, then call fn(ox, ores, ores2) for every slice; slice elements are at
-- ox + j*stride for j = 0..n-1. Returns n, stride.
function U.slices(x, d, fn, res, res2, keep)
   local sz = U.sizes(x)
   local n, sd = sz[d], x._stride[d]
   if not keep then sz[d] = 1 end
   if res then U.resize(res, sz) end
   if res2 then U.resize(res2, sz) end
   U.checkView(x)
   if res then U.checkView(res) end
   if res2 then U.checkView(res2) end
   local outer = without(x._size, x._dim, d)
   U.each(outer, fn,
      without(x._stride, x._dim, d), x._offset,
      res and without(res._stride, res._dim, d), res and res._offset,
      res2 and without(res2._stride, res2._dim, d), res2 and res2._offset)
   return n, sd
end

---------------------------------------------------------------- installing
U.funcs = {}

-- install `method` on every tensor class (optionally a filter on records) and
-- torch.<name> dispatching on the type to func(rec, ...)
function U.install(name, method, func, filter)
   for _, rec in ipairs(recs) do
      if filter == nil or filter(rec) then
         if method then rec.Tensor[name] = method end
      end
   end
   if func then
      U.funcs[name] = func
      torch[name] = function(...)
         local n = select('#', ...)
         local a1, a2 = ...
         local rec = recOf(a1) or recOf(a2)
         if rec == nil and n >= 1 then
            local last = select(n, ...)
            if type(last) == 'string' and byTname[last] then
               local args = { ... }
               return func(byTname[last], unpack(args, 1, n - 1))
            end
         end
         return func(rec or U.defaultRec(), ...)
      end
   end
end

function U.isFloat(rec) return not rec.integral end

return U
