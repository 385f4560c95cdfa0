-- Constructors and shape-building TensorMath: zeros ones eye range linspace logspace
-- cat reshape diag tril triu histc bhistc.
local U = require 'torch.math_util'
local torch = _G.torch

local recOf, isT = U.recOf, U.isTensor
local floor, tonumber = math.floor, tonumber

local sizeArgs = torch._sizeArgs

-- [res,] sizes... filled with v
for name, v in pairs({ zeros = 0, ones = 1 }) do
   local function make(rec, res, ...)
      local sizes = sizeArgs(name, ...)
      res = res or U.newEmpty(rec)
      U.resize(res, sizes)
      return U.fill(res, v)
   end
   U.install(name, function(self, ...) return make(recOf(self), self, ...) end,
      function(rec, a, ...)
         if isT(a) then return make(recOf(a), a, ...) end
         return make(rec, nil, a, ...)
      end)
end

local function eye(rec, res, n, m)
   if type(n) ~= 'number' or n < 1 or (m ~= nil and (type(m) ~= 'number' or m < 1)) then
      U.badArgs('eye', 'torch.eye([res,] n [, m]) with positive sizes', res, n, m)
   end
   m = m or n
   res = res or U.newEmpty(rec)
   U.resize(res, { n, m })
   U.fill(res, 0)
   local p = res._storage._data
   for i = 0, math.min(n, m) - 1 do p[res._offset + i * (res._stride[1] + res._stride[2])] = 1 end
   return res
end
U.install('eye', function(self, ...) return eye(recOf(self), self, ...) end,
   function(rec, a, ...)
      if isT(a) then return eye(recOf(a), a, ...) end
      return eye(rec, nil, a, ...)
   end)

-- fill res (resized to n elements only when its count differs) with f(i), i = 0..n-1
local function fillSeq(res, n, f)
   if U.nElement(res) ~= n then U.resize(res, { n }) end
   U.checkWritable('range', res)
   U.checkView(res)
   local p = res._storage._data
   local i = 0
   U.each(U.sizes(res), function(o) p[o] = f(i); i = i + 1 end, res._stride, res._offset)
   return res
end

local function range(rec, res, a, b, step)
   step = step or 1
   if type(a) ~= 'number' or type(b) ~= 'number' or type(step) ~= 'number' then
      U.badArgs('range', 'torch.range([res,] from, to [, step])', res, a, b, step)
   end
   if step == 0 then U.error('range', 'step must be non-zero') end
   if (step > 0 and a > b) or (step < 0 and a < b) then
      U.error('range', 'upper bound and step sign are inconsistent (from ' .. a .. ' to ' .. b .. ' by ' .. step .. ')')
   end
   local q = (b - a) / step
   local n = floor(q + 1e-9 * math.max(1, math.abs(q))) + 1
   res = res or U.newEmpty(rec)
   return fillSeq(res, n, function(i) return a + i * step end)
end
U.install('range', function(self, ...) return range(recOf(self), self, ...) end,
   function(rec, a, ...)
      if isT(a) then return range(recOf(a), a, ...) end
      return range(rec, nil, a, ...)
   end)

for name, isLog in pairs({ linspace = false, logspace = true }) do
   local function make(rec, res, a, b, n)
      n = n or 100
      if type(a) ~= 'number' or type(b) ~= 'number' or type(n) ~= 'number' or n < 1 then
         U.badArgs(name, 'torch.' .. name .. '([res,] from, to [, n >= 1])', res, a, b, n)
      end
      if n == 1 and a ~= b then
         U.error(name, 'cannot make 1 point between the distinct endpoints ' .. a .. ' and ' .. b)
      end
      res = res or U.newEmpty(rec)
      local step = n > 1 and (b - a) / (n - 1) or 0
      return fillSeq(res, n, function(i)
         local v = (i == n - 1) and b or (a + i * step)
         if isLog then return math.pow(10, v) end
         return v
      end)
   end
   U.install(name, function(self, ...) return make(recOf(self), self, ...) end,
      function(rec, a, ...)
         if isT(a) then return make(recOf(a), a, ...) end
         return make(rec, nil, a, ...)
      end)
end

---------------------------------------------------------------- cat
local function cat(rec, res, list, dim)
   local ts = {}
   for _, t in ipairs(list) do
      if not isT(t) then U.badArgs('cat', 'tensors (or a table of tensors)', unpack(list)) end
      if t._dim > 0 then ts[#ts + 1] = t end
   end
   if #list == 0 then U.error('cat', 'expected at least one tensor, got an empty table') end
   rec = rec or recOf(list[1])
   res = res or U.newEmpty(rec)
   if #ts == 0 then
      U.resize(res, {})
      return res
   end
   local nd = 0
   for _, t in ipairs(ts) do nd = math.max(nd, t._dim) end
   dim = dim or nd
   if type(dim) ~= 'number' or dim < 1 or dim > nd + 1 then
      U.error('cat', 'dimension ' .. tostring(dim) .. ' out of range for ' .. nd .. 'D tensors')
   end
   local want = math.max(nd, dim)
   local views = {}
   for i, t in ipairs(ts) do
      if t._dim < want then
         local sz, st = U.sizes(t), {}
         for j = 1, t._dim do st[j] = t._stride[j] end
         for j = t._dim + 1, want do sz[j] = 1; st[j] = 1 end
         t = U.view(t, t._offset, sz, st)
      end
      views[i] = t
   end
   local sizes = U.sizes(views[1])
   local total = 0
   for i, t in ipairs(views) do
      for j = 1, want do
         if j ~= dim and t._size[j] ~= sizes[j] then
            U.error('cat', 'inconsistent tensor sizes ' .. U.sizeStr(views[1]) .. ' and ' .. U.sizeStr(t) ..
               ' (they may only differ in dimension ' .. dim .. ')')
         end
      end
      total = total + t._size[dim]
   end
   sizes[dim] = total
   local out = res
   for _, t in ipairs(views) do
      if t._storage == res._storage then out = U.newEmpty(recOf(res)); break end
   end
   U.resize(out, sizes)
   local off = 1
   for _, t in ipairs(views) do
      local n = t._size[dim]
      U.copyInto(U.narrow(out, dim, off, n), t)
      off = off + n
   end
   if out ~= res then
      U.resize(res, sizes)
      U.copyInto(res, out)
   end
   return res
end

local function catArgs(rec, res, ...)
   local a, b, c = ...
   if type(a) == 'table' and not isT(a) then return cat(rec, res, a, b) end
   local list = {}
   local n = select('#', ...)
   local dim
   for i = 1, n do
      local v = select(i, ...)
      if isT(v) then list[#list + 1] = v
      elseif type(v) == 'number' and i == n then dim = v
      else U.badArgs('cat', 'torch.cat([res,] tensor1, tensor2, ... [, dim]) or torch.cat([res,] {tensors} [, dim])', ...) end
   end
   return cat(rec, res, list, dim)
end
U.install('cat', function(self, a, ...)
   -- res:cat(t1, t2 [, dim]) or res:cat({...} [, dim]) fill res; x:cat(y [, dim]) makes a new tensor
   if type(a) == 'table' and not isT(a) then return cat(recOf(self), self, a, ...) end
   if isT(a) and isT((...)) then return catArgs(recOf(self), self, a, ...) end
   return catArgs(recOf(self), nil, self, a, ...)
end, function(rec, a, b, ...)
   if isT(a) and type(b) == 'table' and not isT(b) then return cat(recOf(a), a, b, ...) end
   if isT(a) and isT(b) and (isT((...)) or (type((...)) == 'table')) then
      -- torch.cat(res, t1, t2 ...) when three or more tensors: the first is the result
      return catArgs(recOf(a), a, b, ...)
   end
   return catArgs(nil, nil, a, b, ...)
end)

---------------------------------------------------------------- reshape, diag, tril, triu
local function reshape(res, x, ...)
   if not isT(x) then U.badArgs('reshape', 'torch.reshape([res,] tensor, sizes...)', res, x, ...) end
   local sizes = sizeArgs('reshape', ...)
   local n = 1
   for _, s in ipairs(sizes) do n = n * s end
   if n ~= U.nElement(x) then
      U.error('reshape', 'cannot reshape ' .. U.what(x) .. ' to ' .. table.concat(sizes, 'x') .. ' (' .. n .. ' elements)')
   end
   res = res or U.newEmpty(recOf(x))
   local src = U.contiguous(x)
   if src == x and res ~= x then src = U.clone(x) end
   U.resize(res, sizes)
   U.copyInto(res, U.viewContig(src, sizes))
   return res
end
U.install('reshape', function(self, a, ...)
   if isT(a) then return reshape(self, a, ...) end
   return reshape(nil, self, a, ...)
end, function(rec, a, b, ...)
   if isT(a) and isT(b) then return reshape(a, b, ...) end
   return reshape(nil, a, b, ...)
end)

local function diag(res, x, k)
   k = k or 0
   if not isT(x) or (x._dim ~= 1 and x._dim ~= 2) or type(k) ~= 'number' then
      U.badArgs('diag', 'torch.diag([res,] 1D or 2D tensor [, k])', res, x, k)
   end
   res = res or U.newEmpty(recOf(x))
   if x._dim == 1 then
      local n = x._size[1]
      local m = n + math.abs(k)
      local src = x
      if res == x then src = U.clone(x) end
      U.resize(res, { m, m })
      U.fill(res, 0)
      local off = res._offset + (k >= 0 and k * res._stride[2] or -k * res._stride[1])
      U.copyInto(U.view(res, off, { n }, { res._stride[1] + res._stride[2] }), src)
   else
      local r, c = x._size[1], x._size[2]
      local n, off
      if k >= 0 then
         n = math.max(0, math.min(r, c - k)); off = x._offset + k * x._stride[2]
      else
         n = math.max(0, math.min(r + k, c)); off = x._offset - k * x._stride[1]
      end
      local d = U.view(x, off, { n }, { x._stride[1] + x._stride[2] })
      d = U.clone(d)
      U.resize(res, { n })
      U.copyInto(res, d)
   end
   return res
end
U.install('diag', function(self, a, b)
   if isT(a) then return diag(self, a, b) end
   return diag(nil, self, a)
end, function(rec, a, b, c)
   if isT(a) and isT(b) then return diag(a, b, c) end
   return diag(nil, a, b)
end)

for name, upper in pairs({ tril = false, triu = true }) do
   local function go(res, x, k)
      k = k or 0
      if not isT(x) or x._dim ~= 2 or type(k) ~= 'number' then
         U.badArgs(name, 'torch.' .. name .. '([res,] 2D tensor [, k])', res, x, k)
      end
      res = res or U.newEmpty(recOf(x))
      if res ~= x then
         U.resize(res, U.sizes(x))
         U.copyInto(res, x)
      end
      local p = res._storage._data
      local s1, s2 = res._stride[1], res._stride[2]
      for i = 1, res._size[1] do
         for j = 1, res._size[2] do
            local zero
            if upper then zero = (j - i) < k else zero = (j - i) > k end
            if zero then p[res._offset + (i - 1) * s1 + (j - 1) * s2] = 0 end
         end
      end
      return res
   end
   U.install(name, function(self, a, b)
      if isT(a) then return go(self, a, b) end
      return go(nil, self, a)
   end, function(rec, a, b, c)
      if isT(a) and isT(b) then return go(a, b, c) end
      return go(nil, a, b)
   end)
end

---------------------------------------------------------------- histograms
local function histRow(name, get, n, nbins, lo, hi)
   if lo == hi then
      lo, hi = math.huge, -math.huge
      for i = 1, n do
         local v = get(i)
         if v < lo then lo = v end
         if v > hi then hi = v end
      end
      if lo == hi then lo, hi = lo - 1, hi + 1 end
   end
   local counts = {}
   for b = 1, nbins do counts[b] = 0 end
   for i = 1, n do
      local v = get(i)
      if v >= lo and v <= hi then
         local b = floor((v - lo) / (hi - lo) * nbins) + 1
         if b > nbins then b = nbins end
         counts[b] = counts[b] + 1
      end
   end
   return counts
end

local function histc(res, x, nbins, lo, hi)
   nbins, lo, hi = nbins or 100, lo or 0, hi or 0
   if not isT(x) or type(nbins) ~= 'number' or nbins < 1 or type(lo) ~= 'number' or type(hi) ~= 'number' then
      U.badArgs('histc', 'torch.histc([res,] tensor [, nbins [, min [, max]]])', res, x, nbins, lo, hi)
   end
   if lo > hi then U.error('histc', 'min ' .. lo .. ' is larger than max ' .. hi) end
   local c = U.contiguous(x)
   U.checkView(c)
   local p, o = c._storage._data, c._offset
   local counts = histRow('histc', function(i) return tonumber(p[o + i - 1]) end, U.nElement(c), nbins, lo, hi)
   res = res or U.newEmpty(recOf(x))
   U.resize(res, { nbins })
   for b = 1, nbins do res._storage._data[res._offset + (b - 1) * res._stride[1]] = counts[b] end
   return res
end
U.install('histc', function(self, a, ...)
   if isT(a) then return histc(self, a, ...) end
   return histc(nil, self, a, ...)
end, function(rec, a, b, ...)
   if isT(a) and isT(b) then return histc(a, b, ...) end
   return histc(nil, a, b, ...)
end)

local function bhistc(res, x, nbins, lo, hi)
   nbins, lo, hi = nbins or 100, lo or 0, hi or 0
   if not isT(x) or (x._dim ~= 1 and x._dim ~= 2) or type(nbins) ~= 'number' or nbins < 1
      or type(lo) ~= 'number' or type(hi) ~= 'number' then
      U.badArgs('bhistc', 'torch.bhistc([res,] 1D or 2D tensor [, nbins [, min [, max]]])', res, x, nbins, lo, hi)
   end
   if lo > hi then U.error('bhistc', 'min ' .. lo .. ' is larger than max ' .. hi) end
   local x2 = x._dim == 2 and x or U.view(x, x._offset, { 1, x._size[1] }, { 0, x._stride[1] })
   res = res or U.newEmpty(recOf(x))
   U.resize(res, x._dim == 2 and { x2._size[1], nbins } or { nbins })
   local r2 = x._dim == 2 and res or U.view(res, res._offset, { 1, nbins }, { 0, res._stride[1] })
   U.checkView(x2); U.checkView(r2)
   local p = x2._storage._data
   for r = 1, x2._size[1] do
      local base = x2._offset + (r - 1) * x2._stride[1]
      local counts = histRow('bhistc', function(i) return tonumber(p[base + (i - 1) * x2._stride[2]]) end,
         x2._size[2], nbins, lo, hi)
      for b = 1, nbins do
         r2._storage._data[r2._offset + (r - 1) * r2._stride[1] + (b - 1) * r2._stride[2]] = counts[b]
      end
   end
   return res
end
U.install('bhistc', function(self, a, ...)
   if isT(a) and isT(self) then return bhistc(self, a, ...) end
   return bhistc(nil, self, a, ...)
end, function(rec, a, b, ...)
   if isT(a) and isT(b) then return bhistc(a, b, ...) end
   return bhistc(nil, a, b, ...)
end)

---------------------------------------------------------------- repeatTensor
-- Torch7 keeps repeatTensor in Tensor.lua; provided here when the core has none.
local function repeatTensor(res, x, ...)
   if not isT(x) then U.badArgs('repeatTensor', '[res:]repeatTensor([tensor,] sizes...)', res, x, ...) end
   local reps = sizeArgs('repeatTensor', ...)
   if #reps < x._dim then
      U.error('repeatTensor', 'the number of repetitions (' .. #reps .. ') must be at least the number of dimensions (' .. x._dim .. ')')
   end
   local xsize = U.sizes(x)
   while #xsize < #reps do table.insert(xsize, 1, 1) end
   local cur = U.viewContig(U.clone(x), xsize)
   for d = 1, #reps do
      if reps[d] ~= 1 then
         local sz = U.sizes(cur)
         local n = sz[d]
         sz[d] = n * reps[d]
         local nxt = U.new(recOf(x), sz)
         for k = 0, reps[d] - 1 do U.copyInto(U.narrow(nxt, d, k * n + 1, n), cur) end
         cur = nxt
      end
   end
   res = res or U.newEmpty(recOf(x))
   U.resize(res, U.sizes(cur))
   U.copyInto(res, cur)
   return res
end
for _, rec in ipairs(U.recs) do
   if rawget(rec.Tensor_mt or {}, 'repeatTensor') == nil and rec.Tensor.repeatTensor == nil then
      rec.Tensor.repeatTensor = function(self, a, ...)
         if isT(a) then return repeatTensor(self, a, ...) end
         return repeatTensor(nil, self, a, ...)
      end
   end
end

return {}
