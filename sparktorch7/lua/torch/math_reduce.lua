-- Reductions and orderings: sum prod mean var std max min median mode kthvalue sort topk
-- cumsum cumprod norm renorm dist all any trace. Results keep the reduced dim with size 1.
local U = require 'torch.math_util'
local torch = _G.torch

local recOf, isT = U.recOf, U.isTensor
local long = U.byName.Long
local tonumber, huge, floor = tonumber, math.huge, math.floor

local function nonEmpty(name, x)
   if U.nElement(x) == 0 then U.error(name, 'got an empty tensor; expected at least one element') end
end

---------------------------------------------------------------- whole-tensor reductions
-- big floating tensors are reduced (op 'reduce', sum still accumulating in double) or
-- sorted (op 'sort') by numpy, from the sizes torch._np.thresholds gives
local function viaNumpy(x, op)
   local bridge = rawget(torch, '_np')
   if bridge and not recOf(x).integral and U.nElement(x) >= bridge.thresholds[op or 'reduce'] then return bridge end
end
local function sumall(x)
   local bridge = viaNumpy(x)
   if bridge then return bridge.call('reduce_all', 'sum', x) end
   return U.apply(U.kernel('S1 = S1 + @R', x), x, nil, nil, nil, 0)
end
local function prodall(x) return U.apply(U.kernel('S1 = S1 * @R', x), x, nil, nil, nil, 1) end
local function maxall(x)
   nonEmpty('max', x)
   local bridge = viaNumpy(x)
   if bridge then return bridge.call('reduce_all', 'max', x) end
   return U.apply(U.kernel('local v = @R; if v > S1 or v ~= v then S1 = v end', x), x, nil, nil, nil, -huge)
end
local function minall(x)
   nonEmpty('min', x)
   local bridge = viaNumpy(x)
   if bridge then return bridge.call('reduce_all', 'min', x) end
   return U.apply(U.kernel('local v = @R; if v < S1 or v ~= v then S1 = v end', x), x, nil, nil, nil, huge)
end
local function varall(x, biased)
   local n = U.nElement(x)
   local mean = sumall(x) / n
   local ss = U.apply(U.kernel('local d = @R - S2; S1 = S1 + d * d', x), x, nil, nil, nil, 0, mean)
   if biased then return ss / n end
   if n < 2 then return 0 end
   return ss / (n - 1)
end
local function normall(x, p)
   if p == 2 then
      return math.sqrt(U.apply(U.kernel('local v = @R; S1 = S1 + v * v', x), x, nil, nil, nil, 0))
   elseif p == 1 then
      return U.apply(U.kernel('S1 = S1 + abs(@R)', x), x, nil, nil, nil, 0)
   elseif p == 0 then
      return U.apply(U.kernel('if @R ~= 0 then S1 = S1 + 1 end', x), x, nil, nil, nil, 0)
   elseif p == huge then
      return U.apply(U.kernel('local v = abs(@R); if v > S1 then S1 = v end', x), x, nil, nil, nil, 0)
   end
   local s = U.apply(U.kernel('S1 = S1 + pow(abs(@R), S2)', x), x, nil, nil, nil, 0, p)
   return math.pow(s, 1 / p)
end
local M = { sumall = sumall, prodall = prodall, maxall = maxall, minall = minall, normall = normall }

---------------------------------------------------------------- along a dimension
-- kernels looping over the reduced dimension (S2 elements, stride S3) for each result element
local foldKernels = {
   sum = 'local acc, o = 0, ob; for _ = 1, S2 do acc = acc + @X{o}; o = o + S3 end; !R = acc',
   prod = 'local acc, o = 1, ob; for _ = 1, S2 do acc = acc * @X{o}; o = o + S3 end; !R = acc',
   mean = 'local acc, o = 0, ob; for _ = 1, S2 do acc = acc + @X{o}; o = o + S3 end; !R = acc / S2',
}
local extremeKernels = {
   max = 'local o = oc; local best, bi = @Y{o}, 1; if best == best then for j = 2, S2 do o = o + S3; ' ..
         'local v = @Y{o}; if v ~= v then best, bi = v, j; break end; if v > best then best, bi = v, j end end end; ' ..
         '!R = best; !X = bi',
   min = 'local o = oc; local best, bi = @Y{o}, 1; if best == best then for j = 2, S2 do o = o + S3; ' ..
         'local v = @Y{o}; if v ~= v then best, bi = v, j; break end; if v < best then best, bi = v, j end end end; ' ..
         '!R = best; !X = bi',
}

-- fold(acc, v) reduction along d into res (same type as x); finish(acc, n) optional
local function reduceDim(name, x, d, res, init, step, finish)
   U.checkDim(name, x, d)
   res = res or U.newEmpty(recOf(x))
   U.checkWritable(name, res)
   local bridge = viaNumpy(x)
   if bridge and recOf(res) == recOf(x) and res ~= x then
      local sz = U.sizes(x)
      sz[d] = 1
      U.resize(res, sz)
      bridge.call('reduce_dim', name, res, x, d - 1, false)
      return res
   end
   local sz = U.sizes(x)
   sz[d] = 1
   if res == x then x = U.clone(x) end
   U.resize(res, sz)
   local rv, xv = U.dropDim(res, d), U.dropDim(x, d)
   U.apply(U.kernel(foldKernels[name], rv, xv), rv, xv, nil, nil, nil, x._size[d], x._stride[d])
   return res
end

local function add(a, v) return a + v end
local function mul(a, v) return a * v end



-- sum / prod / mean: x:f() -> number; x:f(dim) and torch.f([res,] x, dim) -> tensor
local function defFold(name, all, init, step, finish, floatOnly)
   local function method(self, a, b)
      if isT(self) and a == nil then return all(self) end
      if isT(self) and type(a) == 'number' and b == nil then
         return reduceDim(name, self, a, nil, init, step, finish)
      end
      if isT(self) and isT(a) and type(b) == 'number' then
         return reduceDim(name, a, b, self, init, step, finish)
      end
      U.badArgs(name, name .. '() or ' .. name .. '(dim)', self, a, b)
   end
   local function func(rec, a, b, c)
      if isT(a) and b == nil then return all(a) end
      if isT(a) and type(b) == 'number' and c == nil then return reduceDim(name, a, b, nil, init, step, finish) end
      if isT(a) and isT(b) and type(c) == 'number' then return reduceDim(name, b, c, a, init, step, finish) end
      U.badArgs(name, 'torch.' .. name .. '([res,] tensor [, dim])', a, b, c)
   end
   U.install(name, method, func)
end
defFold('sum', sumall, 0, add)
defFold('prod', prodall, 1, mul)
defFold('mean', function(x) nonEmpty('mean', x); return sumall(x) / U.nElement(x) end, 0, add,
   function(acc, n) return acc / n end)

-- var / std: x:var([biased]) -> number; x:var(dim [, biased]); torch.var([res,] x, dim [, biased])
for _, name in ipairs({ 'var', 'std' }) do
   local isStd = name == 'std'
   local function all(x, biased)
      nonEmpty(name, x)
      local v = varall(x, biased)
      if isStd then return math.sqrt(v) end
      return v
   end
   local function dimf(res, x, d, biased)
      U.checkDim(name, x, d)
      res = res or U.newEmpty(recOf(x))
      local bridge = viaNumpy(x)
      if bridge and recOf(res) == recOf(x) and res ~= x then
         local sz = U.sizes(x)
         sz[d] = 1
         U.resize(res, sz)
         U.checkWritable(name, res)
         bridge.call('reduce_dim', name, res, x, d - 1, biased and true or false)
         return res
      end
      local px = x._storage._data
      local n, sd = x._size[d], x._stride[d]
      local pr
      U.slices(x, d, function(ox, orr)
         pr = pr or res._storage._data
         local s, o = 0, ox
         for _ = 1, n do s = s + tonumber(px[o]); o = o + sd end
         local mean = s / n
         local ss = 0
         o = ox
         for _ = 1, n do
            local dv = tonumber(px[o]) - mean
            ss = ss + dv * dv
            o = o + sd
         end
         local v
         if biased then v = ss / n elseif n > 1 then v = ss / (n - 1) else v = 0 end
         if isStd then v = math.sqrt(v) end
         pr[orr] = v
      end, res)
      return res
   end
   local function method(self, a, b, c)
      if isT(self) and (a == nil or type(a) == 'boolean') and b == nil then return all(self, a) end
      if isT(self) and type(a) == 'number' then return dimf(nil, self, a, b) end
      if isT(self) and isT(a) and type(b) == 'number' then return dimf(self, a, b, c) end
      U.badArgs(name, name .. '([biased]) or ' .. name .. '(dim [, biased])', self, a, b, c)
   end
   local function func(rec, a, b, c, d)
      if isT(a) and (b == nil or type(b) == 'boolean') and c == nil then return all(a, b) end
      if isT(a) and type(b) == 'number' then return dimf(nil, a, b, c) end
      if isT(a) and isT(b) and type(c) == 'number' then return dimf(a, b, c, d) end
      U.badArgs(name, 'torch.' .. name .. '([res,] tensor [, dim [, biased]])', a, b, c, d)
   end
   U.install(name, method, func)
end

---------------------------------------------------------------- max / min
local function extremeDim(name, isMax, rv, ri, x, d)
   U.checkDim(name, x, d)
   nonEmpty(name, x)
   rv = rv or U.newEmpty(recOf(x))
   ri = ri or U.newEmpty(long)
   if not isT(ri) or recOf(ri) ~= long then
      U.error(name, 'index result must be a torch.LongTensor, got ' .. U.what(ri))
   end
   local bridge = viaNumpy(x)
   if bridge and recOf(rv) == recOf(x) and rv ~= x then
      local sz = U.sizes(x)
      sz[d] = 1
      U.resize(rv, sz); U.resize(ri, sz)
      U.checkWritable(name, rv)
      bridge.call('extreme_dim', name, rv, ri, x, d - 1)
      return rv, ri
   end
   local sz = U.sizes(x)
   sz[d] = 1
   if rv == x then x = U.clone(x) end
   U.resize(rv, sz); U.resize(ri, sz)
   U.checkWritable(name, rv)
   local vv, iv, xv = U.dropDim(rv, d), U.dropDim(ri, d), U.dropDim(x, d)
   U.apply(U.kernel(extremeKernels[name], vv, iv, xv), vv, iv, xv, nil, nil, x._size[d], x._stride[d])
   return rv, ri
end

for _, spec in ipairs({ { 'max', true, maxall, 'cmax' }, { 'min', false, minall, 'cmin' } }) do
   local name, isMax, all, cname = spec[1], spec[2], spec[3], spec[4]
   local function method(self, a, b, c)
      if isT(self) and a == nil then return all(self) end
      if isT(self) and type(a) == 'number' and b == nil then return extremeDim(name, isMax, nil, nil, self, a) end
      if isT(self) and isT(a) and isT(b) and type(c) == 'number' then
         return extremeDim(name, isMax, self, a, b, c)
      end
      if isT(self) and isT(a) and c == nil then return self[cname](self, a, b) end
      U.badArgs(name, name .. '() or ' .. name .. '(dim)', self, a, b, c)
   end
   local function func(rec, a, b, c, d)
      if isT(a) and b == nil then return all(a) end
      if isT(a) and type(b) == 'number' and c == nil then return extremeDim(name, isMax, nil, nil, a, b) end
      if isT(a) and isT(b) and isT(c) and type(d) == 'number' then return extremeDim(name, isMax, a, b, c, d) end
      if isT(a) and isT(b) and d == nil then return U.funcs[cname](rec, a, b, c) end
      U.badArgs(name, 'torch.' .. name .. '([resval, resind,] tensor [, dim])', a, b, c, d)
   end
   U.install(name, method, func)
end

---------------------------------------------------------------- cumsum / cumprod
for name, isSum in pairs({ cumsum = true, cumprod = false }) do
   local function go(res, x, d)
      d = d or 1
      U.checkDim(name, x, d)
      res = res or U.newEmpty(recOf(x))
      if res == x then x = U.clone(x) end
      U.resize(res, U.sizes(x))
      local bridge = viaNumpy(x)
      if bridge and recOf(res) == recOf(x) then
         U.checkWritable(name, res)
         bridge.call('reduce_dim', name, res, x, d - 1, false)
         return res
      end
      local px, pr = x._storage._data, res._storage._data
      local n, sd, rd = x._size[d], x._stride[d], res._stride[d]
      U.slices(x, d, function(ox, orr)
         local acc = isSum and 0 or 1
         for _ = 1, n do
            if isSum then acc = acc + tonumber(px[ox]) else acc = acc * tonumber(px[ox]) end
            pr[orr] = acc
            ox = ox + sd; orr = orr + rd
         end
      end, res, nil, true)
      return res
   end
   U.install(name, function(self, a, b)
      if isT(self) and (a == nil or type(a) == 'number') and b == nil then return go(nil, self, a) end
      if isT(self) and isT(a) then return go(self, a, b) end
      U.badArgs(name, name .. '([dim])', self, a, b)
   end, function(rec, a, b, c)
      if isT(a) and (b == nil or type(b) == 'number') and c == nil then return go(nil, a, b) end
      if isT(a) and isT(b) then return go(a, b, c) end
      U.badArgs(name, 'torch.' .. name .. '([res,] tensor [, dim])', a, b, c)
   end)
end

---------------------------------------------------------------- sorting family
-- read slice values into vals[1..n] and return the index order sorted
local function sliceOrder(px, ox, sd, n, desc, vals, idx)
   local o = ox
   for j = 1, n do
      local v = tonumber(px[o])
      if v ~= v then v = desc and huge or huge end
      vals[j] = v
      idx[j] = j
      o = o + sd
   end
   for j = n + 1, #idx do idx[j] = nil end
   if desc then
      table.sort(idx, function(i, j)
         local a, b = vals[i], vals[j]
         if a ~= b then return a > b end
         return i < j
      end)
   else
      table.sort(idx, function(i, j)
         local a, b = vals[i], vals[j]
         if a ~= b then return a < b end
         return i < j
      end)
   end
   return idx
end

local function resultPair(name, rec, rv, ri)
   rv = rv or U.newEmpty(rec)
   ri = ri or U.newEmpty(long)
   if recOf(ri) ~= long then U.error(name, 'index result must be a torch.LongTensor, got ' .. U.what(ri)) end
   return rv, ri
end

-- sort(x [, dim] [, descending])
local function sort(rv, ri, x, d, desc)
   if type(d) == 'boolean' then d, desc = nil, d end
   if not isT(x) or (d ~= nil and type(d) ~= 'number') or (desc ~= nil and type(desc) ~= 'boolean') then
      U.badArgs('sort', 'sort([dim] [, descending])', x, d, desc)
   end
   d = d or x._dim
   U.checkDim('sort', x, d)
   rv, ri = resultPair('sort', recOf(x), rv, ri)
   local xs = x
   if rv == x then xs = U.clone(x) end
   U.resize(rv, U.sizes(xs)); U.resize(ri, U.sizes(xs))
   local bridge = viaNumpy(xs, 'sort')
   if bridge and recOf(rv) == recOf(xs) then
      U.checkWritable('sort', rv)
      bridge.call('sort', rv, ri, xs, d - 1, desc and true or false)
      return rv, ri
   end
   local px, pv, pi = xs._storage._data, rv._storage._data, ri._storage._data
   local n, sd, vd, id = xs._size[d], xs._stride[d], rv._stride[d], ri._stride[d]
   local vals, idx, raw = {}, {}, {}
   U.slices(xs, d, function(ox, ov, oi)
      local o = ox
      for j = 1, n do raw[j] = px[o]; o = o + sd end
      sliceOrder(px, ox, sd, n, desc, vals, idx)
      for j = 1, n do
         local k = idx[j]
         pv[ov] = raw[k]; pi[oi] = k
         ov = ov + vd; oi = oi + id
      end
   end, rv, ri, true)
   return rv, ri
end

U.install('sort', function(self, a, b, c, d)
   if isT(self) and not isT(a) then return sort(nil, nil, self, a, b) end
   if isT(self) and isT(a) and isT(b) then return sort(self, a, b, c, d) end
   U.badArgs('sort', 'sort([dim] [, descending])', self, a, b, c, d)
end, function(rec, a, b, c, d, e)
   if isT(a) and not isT(b) then return sort(nil, nil, a, b, c) end
   if isT(a) and isT(b) and isT(c) then return sort(a, b, c, d, e) end
   U.badArgs('sort', 'torch.sort([resval, resind,] tensor [, dim] [, descending])', a, b, c, d, e)
end)

-- pick(vals, order, n) -> position in order to keep (1 element per slice)
local function selectDim(name, rv, ri, x, d, pick, position)
   d = d or x._dim
   U.checkDim(name, x, d)
   nonEmpty(name, x)
   rv, ri = resultPair(name, recOf(x), rv, ri)
   local px = x._storage._data
   local n, sd = x._size[d], x._stride[d]
   if position and viaNumpy(x, 'sort') then
      local sv, si = sort(nil, nil, x, d, false)
      local k = position(n)
      U.resize(rv, U.sizes(U.narrow(sv, d, k, 1))); U.resize(ri, U.sizes(U.narrow(si, d, k, 1)))
      U.copyInto(rv, U.narrow(sv, d, k, 1)); U.copyInto(ri, U.narrow(si, d, k, 1))
      return rv, ri
   end
   local vals, idx = {}, {}
   local pv, pi
   U.slices(x, d, function(ox, ov, oi)
      pv = pv or rv._storage._data
      pi = pi or ri._storage._data
      sliceOrder(px, ox, sd, n, false, vals, idx)
      local k = pick(vals, idx, n)
      pv[ov] = px[ox + (k - 1) * sd]
      pi[oi] = k
   end, rv, ri)
   return rv, ri
end

local function kthvalue(rv, ri, x, k, d)
   if type(k) ~= 'number' then U.badArgs('kthvalue', 'kthvalue(k [, dim])', x, k, d) end
   local dd = d or x._dim
   U.checkDim('kthvalue', x, dd)
   if k < 1 or k > x._size[dd] then
      U.error('kthvalue', 'k ' .. k .. ' out of range: the dimension ' .. dd .. ' has ' .. x._size[dd] .. ' elements')
   end
   return selectDim('kthvalue', rv, ri, x, dd, function(vals, idx) return idx[k] end, function() return k end)
end
local function median(rv, ri, x, d)
   return selectDim('median', rv, ri, x, d, function(vals, idx, n) return idx[floor((n + 1) / 2)] end,
      function(n) return floor((n + 1) / 2) end)
end
local function mode(rv, ri, x, d)
   return selectDim('mode', rv, ri, x, d, function(vals, idx, n)
      -- most frequent value (smallest on ties), its last position
      local best, bestCount, bestIdx = nil, 0, idx[1]
      local j = 1
      while j <= n do
         local v = vals[idx[j]]
         local k, last = j, idx[j]
         while k + 1 <= n and vals[idx[k + 1]] == v do
            k = k + 1
            if idx[k] > last then last = idx[k] end
         end
         if k - j + 1 > bestCount then best, bestCount, bestIdx = v, k - j + 1, last end
         j = k + 1
      end
      return bestIdx
   end)
end

U.install('kthvalue', function(self, a, b, c, d)
   if isT(self) and type(a) == 'number' then return kthvalue(nil, nil, self, a, b) end
   if isT(self) and isT(a) and isT(b) then return kthvalue(self, a, b, c, d) end
   U.badArgs('kthvalue', 'kthvalue(k [, dim])', self, a, b, c, d)
end, function(rec, a, b, c, d, e)
   if isT(a) and type(b) == 'number' then return kthvalue(nil, nil, a, b, c) end
   if isT(a) and isT(b) and isT(c) then return kthvalue(a, b, c, d, e) end
   U.badArgs('kthvalue', 'torch.kthvalue([resval, resind,] tensor, k [, dim])', a, b, c, d, e)
end)
for name, f in pairs({ median = median, mode = mode }) do
   U.install(name, function(self, a, b, c)
      if isT(self) and not isT(a) then return f(nil, nil, self, a) end
      if isT(self) and isT(a) and isT(b) then return f(self, a, b, c) end
      U.badArgs(name, name .. '([dim])', self, a, b, c)
   end, function(rec, a, b, c, d)
      if isT(a) and not isT(b) then return f(nil, nil, a, b) end
      if isT(a) and isT(b) and isT(c) then return f(a, b, c, d) end
      U.badArgs(name, 'torch.' .. name .. '([resval, resind,] tensor [, dim])', a, b, c, d)
   end)
end

-- topk(x, k [, dim] [, dir] [, sorted]): dir=true gives the largest
local function topk(rv, ri, x, k, d, dir, sorted)
   if type(k) ~= 'number' then U.badArgs('topk', 'topk(k [, dim] [, dir] [, sort])', x, k, d, dir) end
   if type(d) == 'boolean' then d, dir, sorted = nil, d, dir end
   if not isT(x) or (d ~= nil and type(d) ~= 'number') or (dir ~= nil and type(dir) ~= 'boolean') then
      U.badArgs('topk', 'topk(k [, dim] [, dir] [, sort])', x, k, d, dir, sorted)
   end
   d = d or x._dim
   U.checkDim('topk', x, d)
   if k < 0 or k > x._size[d] then
      U.error('topk', 'k ' .. k .. ' out of range: the dimension ' .. d .. ' has ' .. x._size[d] .. ' elements')
   end
   local sv, si = sort(nil, nil, x, d, dir and true or false)
   local nv, ni = U.narrow(sv, d, 1, k), U.narrow(si, d, 1, k)
   rv, ri = resultPair('topk', recOf(x), rv, ri)
   U.resize(rv, U.sizes(nv)); U.resize(ri, U.sizes(ni))
   U.copyInto(rv, nv); U.copyInto(ri, ni)
   return rv, ri
end
U.install('topk', function(self, a, ...)
   if isT(self) and type(a) == 'number' then return topk(nil, nil, self, a, ...) end
   if isT(self) and isT(a) then return topk(self, a, ...) end
   U.badArgs('topk', 'topk(k [, dim] [, dir] [, sort])', self, a, ...)
end, function(rec, a, b, ...)
   if isT(a) and type(b) == 'number' then return topk(nil, nil, a, b, ...) end
   if isT(a) and isT(b) then return topk(a, b, ...) end
   U.badArgs('topk', 'torch.topk([resval, resind,] tensor, k [, dim] [, dir] [, sort])', a, b, ...)
end)

---------------------------------------------------------------- norms
local function normDim(res, x, p, d)
   U.checkDim('norm', x, d)
   res = res or U.newEmpty(recOf(x))
   local px = x._storage._data
   local n, sd = x._size[d], x._stride[d]
   local pr
   U.slices(x, d, function(ox, orr)
      pr = pr or res._storage._data
      local s, o = 0, ox
      if p == 0 then
         for _ = 1, n do if tonumber(px[o]) ~= 0 then s = s + 1 end; o = o + sd end
      elseif p == huge then
         for _ = 1, n do local v = math.abs(tonumber(px[o])); if v > s then s = v end; o = o + sd end
      else
         for _ = 1, n do s = s + math.pow(math.abs(tonumber(px[o])), p); o = o + sd end
         s = math.pow(s, 1 / p)
      end
      pr[orr] = s
   end, res)
   return res
end
U.install('norm', function(self, a, b, c)
   if isT(self) and (a == nil or type(a) == 'number') and b == nil then return normall(self, a or 2) end
   if isT(self) and type(a) == 'number' and type(b) == 'number' then return normDim(nil, self, a, b) end
   if isT(self) and isT(a) and type(b) == 'number' and type(c) == 'number' then return normDim(self, a, b, c) end
   U.badArgs('norm', 'norm([p]) or norm(p, dim)', self, a, b, c)
end, function(rec, a, b, c, d)
   if isT(a) and (b == nil or type(b) == 'number') and c == nil then return normall(a, b or 2) end
   if isT(a) and type(b) == 'number' and type(c) == 'number' then return normDim(nil, a, b, c) end
   if isT(a) and isT(b) and type(c) == 'number' and type(d) == 'number' then return normDim(a, b, c, d) end
   U.badArgs('norm', 'torch.norm([res,] tensor [, p [, dim]])', a, b, c, d)
end)

local function renorm(res, x, p, d, maxnorm)
   if type(p) ~= 'number' or type(d) ~= 'number' or type(maxnorm) ~= 'number' then
      U.badArgs('renorm', 'renorm([src,] p, dim, maxnorm)', x, p, d, maxnorm)
   end
   U.checkDim('renorm', x, d)
   if p <= 0 then U.error('renorm', 'non-positive norm ' .. p) end
   if res ~= x then
      U.resize(res, U.sizes(x))
      U.copyInto(res, x)
   end
   for i = 1, res._size[d] do
      local sub = U.select(res, d, i)
      local nrm = normall(sub, p)
      if nrm > maxnorm then
         local f = maxnorm / (nrm + 1e-7)
         U.apply(U.kernel('!R = @R * S2', sub), sub, nil, nil, nil, nil, f)
      end
   end
   return res
end
U.install('renorm', function(self, a, b, c, d)
   if isT(self) and isT(a) then return renorm(self, a, b, c, d) end
   if isT(self) then return renorm(self, self, a, b, c) end
   U.badArgs('renorm', 'renorm([src,] p, dim, maxnorm)', self, a, b, c, d)
end, function(rec, a, b, c, d, e)
   if isT(a) and isT(b) then return renorm(a, b, c, d, e) end
   if isT(a) then return renorm(U.newEmpty(recOf(a)), a, b, c, d) end
   U.badArgs('renorm', 'torch.renorm([res,] tensor, p, dim, maxnorm)', a, b, c, d, e)
end)

local function dist(a, b, p)
   if not (isT(a) and isT(b)) or (p ~= nil and type(p) ~= 'number') then
      U.badArgs('dist', 'torch.dist(tensor1, tensor2 [, p])', a, b, p)
   end
   p = p or 2
   local bb = U.conform('dist', a, b)
   if p == 2 then
      return math.sqrt(U.apply(U.kernel('local d = @R - @X; S1 = S1 + d * d', a, bb), a, bb, nil, nil, 0))
   end
   local s = U.apply(U.kernel('S1 = S1 + pow(abs(@R - @X), S2)', a, bb), a, bb, nil, nil, 0, p)
   return math.pow(s, 1 / p)
end
U.install('dist', dist, function(rec, ...) return dist(...) end)

---------------------------------------------------------------- logical, trace
U.install('all', function(self)
   if not isT(self) then U.badArgs('all', 'tensor:all()', self) end
   return U.apply(U.kernel('if @R == 0 then S1 = false end', self), self, nil, nil, nil, true)
end, function(rec, a)
   if not isT(a) then U.badArgs('all', 'torch.all(tensor)', a) end
   return a:all()
end)
U.install('any', function(self)
   if not isT(self) then U.badArgs('any', 'tensor:any()', self) end
   return U.apply(U.kernel('if @R ~= 0 then S1 = true end', self), self, nil, nil, nil, false)
end, function(rec, a)
   if not isT(a) then U.badArgs('any', 'torch.any(tensor)', a) end
   return a:any()
end)

local function trace(x)
   if not isT(x) or x._dim ~= 2 then U.badArgs('trace', 'a 2D tensor', x) end
   local n = math.min(x._size[1], x._size[2])
   local d = U.view(x, x._offset, { n }, { x._stride[1] + x._stride[2] })
   return sumall(d)
end
U.install('trace', trace, function(rec, a) return trace(a) end)

return M
