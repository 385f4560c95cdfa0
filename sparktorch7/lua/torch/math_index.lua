-- Indexing TensorMath: index indexCopy indexAdd indexFill gather scatter
-- maskedSelect maskedCopy maskedFill nonzero. Indices are 1-based LongTensors.
local U = require 'torch.math_util'
local torch = _G.torch

local recOf, isT = U.recOf, U.isTensor
local tonumber = tonumber
local long, byte = U.byName.Long, U.byName.Byte

local function checkIndexTensor(name, idx, dims)
   if not isT(idx) or recOf(idx) ~= long then
      U.error(name, 'indices must be a torch.LongTensor, got ' .. U.what(idx))
   end
   if dims and idx._dim ~= dims and not (dims == 1 and U.nElement(idx) == 0) then
      U.error(name, 'indices must be a ' .. dims .. 'D torch.LongTensor, got ' .. U.what(idx))
   end
end

-- the indices as a Lua array, each checked against 1..n
local function indexList(name, idx, n, d)
   local list = {}
   U.checkView(idx)
   local p = idx._storage._data
   local i = 0
   U.each(U.sizes(idx), function(o)
      local v = tonumber(p[o])
      if v < 1 or v > n or v ~= math.floor(v) then
         U.error(name, 'index ' .. v .. ' out of range [1, ' .. n .. '] in dimension ' .. d)
      end
      i = i + 1
      list[i] = v
   end, idx._stride, idx._offset)
   return list
end

---------------------------------------------------------------- index family
local function index(res, src, d, idx)
   if not isT(src) or type(d) ~= 'number' then
      U.badArgs('index', 'torch.index([res,] src, dim, LongTensor)', res, src, d, idx)
   end
   U.checkDim('index', src, d)
   checkIndexTensor('index', idx, 1)
   local list = indexList('index', idx, src._size[d], d)
   local sizes = U.sizes(src)
   sizes[d] = #list
   local out = res
   if out == nil or out == src then out = U.newEmpty(recOf(src)) end
   if #list == 0 then
      U.resize(out, {})
   else
      U.resize(out, sizes)
      -- slices of width 1, not selects: a 1-D tensor's select has no elements
      for i, v in ipairs(list) do
         U.copyInto(U.narrow(out, d, i, 1), U.narrow(src, d, v, 1))
      end
   end
   if res == src then
      U.resize(res, U.sizes(out)); U.copyInto(res, out); return res
   end
   return out
end
U.install('index', function(self, a, b, c)
   if isT(a) then return index(self, a, b, c) end
   return index(nil, self, a, b)
end, function(rec, a, b, c, d)
   if isT(a) and isT(b) then return index(a, b, c, d) end
   return index(nil, a, b, c)
end)

local function indexOp(name, self, d, idx, src)
   if not isT(self) or type(d) ~= 'number' then
      U.badArgs(name, 'tensor:' .. name .. '(dim, LongTensor, ' .. (name == 'indexFill' and 'value)' or 'tensor)'), self, d, idx, src)
   end
   U.checkDim(name, self, d)
   checkIndexTensor(name, idx, 1)
   U.checkWritable(name, self)
   local list = indexList(name, idx, self._size[d], d)
   if name == 'indexFill' then
      if type(src) ~= 'number' then U.badArgs(name, 'tensor:indexFill(dim, LongTensor, number)', self, d, idx, src) end
      for _, v in ipairs(list) do U.fill(U.narrow(self, d, v, 1), src) end
      return self
   end
   if not isT(src) then U.badArgs(name, 'tensor:' .. name .. '(dim, LongTensor, tensor)', self, d, idx, src) end
   if src._dim == self._dim then
      if src._size[d] ~= #list then
         U.error(name, 'source has ' .. src._size[d] .. ' slices in dimension ' .. d .. ' but ' .. #list .. ' indices were given')
      end
   elseif not (self._dim == 1 and U.nElement(src) == #list) then
      U.error(name, 'source ' .. U.what(src) .. ' does not match destination ' .. U.what(self))
   end
   for i, v in ipairs(list) do
      local dst = U.select(self, d, v)
      local s = (src._dim == self._dim) and U.select(src, d, i) or U.select(U.viewContig(U.contiguous(src), { #list }), 1, i)
      if dst._dim == 0 then
         -- selecting from a 1D tensor: single elements
         local pd, od = self._storage._data, self._offset + (v - 1) * self._stride[d]
         local sv = U.get(s, s._offset)
         if name == 'indexAdd' then pd[od] = U.get(self, od) + sv else pd[od] = sv end
      elseif name == 'indexAdd' then
         local ss = U.conform(name, dst, s)
         U.apply(U.kernel('!R = @R + @X', dst, ss), dst, ss)
      else
         U.copyInto(dst, s)
      end
   end
   return self
end
for _, name in ipairs({ 'indexCopy', 'indexAdd', 'indexFill' }) do
   U.install(name, function(self, ...) return indexOp(name, self, ...) end,
      function(rec, ...) return indexOp(name, ...) end)
end

---------------------------------------------------------------- gather / scatter
local function strideWithZero(t, d)
   local st = {}
   for i = 1, t._dim do st[i] = t._stride[i] end
   st[d] = 0
   return st
end

local function checkGatherShape(name, t, idx, d)
   if t._dim ~= idx._dim then
      U.error(name, 'index tensor must have the same number of dimensions as the tensor (' .. t._dim .. '), got ' .. U.what(idx))
   end
   for i = 1, t._dim do
      if i ~= d and idx._size[i] > t._size[i] then
         U.error(name, 'index tensor ' .. U.sizeStr(idx) .. ' is larger than the tensor ' .. U.sizeStr(t) .. ' in dimension ' .. i)
      end
   end
end

local function gather(res, src, d, idx)
   if not isT(src) or type(d) ~= 'number' then
      U.badArgs('gather', 'torch.gather([res,] src, dim, LongTensor)', res, src, d, idx)
   end
   U.checkDim('gather', src, d)
   checkIndexTensor('gather', idx)
   checkGatherShape('gather', src, idx, d)
   res = res or U.newEmpty(recOf(src))
   U.resize(res, U.sizes(idx))
   U.checkWritable('gather', res)
   U.checkView(res); U.checkView(idx); U.checkView(src)
   local pr, pi, ps = res._storage._data, idx._storage._data, src._storage._data
   local n, sd = src._size[d], src._stride[d]
   U.each(U.sizes(idx), function(orr, oi, os)
      local v = tonumber(pi[oi])
      if v < 1 or v > n then U.error('gather', 'index ' .. v .. ' out of range [1, ' .. n .. '] in dimension ' .. d) end
      pr[orr] = ps[os + (v - 1) * sd]
   end, res._stride, res._offset, idx._stride, idx._offset, strideWithZero(src, d), src._offset)
   return res
end
U.install('gather', function(self, a, b, c)
   if isT(a) then return gather(self, a, b, c) end
   return gather(nil, self, a, b)
end, function(rec, a, b, c, d)
   if isT(a) and isT(b) then return gather(a, b, c, d) end
   return gather(nil, a, b, c)
end)

local function scatter(self, d, idx, src)
   if not isT(self) or type(d) ~= 'number' or not (isT(src) or type(src) == 'number') then
      U.badArgs('scatter', 'tensor:scatter(dim, LongTensor, tensor | number)', self, d, idx, src)
   end
   U.checkDim('scatter', self, d)
   checkIndexTensor('scatter', idx)
   checkGatherShape('scatter', self, idx, d)
   U.checkWritable('scatter', self)
   U.checkView(self); U.checkView(idx)
   if isT(src) then U.checkWalk(src, idx._size, idx._dim) end
   local pd, pi = self._storage._data, idx._storage._data
   local n, sd = self._size[d], self._stride[d]
   if isT(src) then
      for i = 1, idx._dim do
         if idx._size[i] > src._size[i] then
            U.error('scatter', 'index tensor ' .. U.sizeStr(idx) .. ' is larger than the source ' .. U.sizeStr(src))
         end
      end
      local ps = src._storage._data
      U.each(U.sizes(idx), function(od, oi, os)
         local v = tonumber(pi[oi])
         if v < 1 or v > n then U.error('scatter', 'index ' .. v .. ' out of range [1, ' .. n .. '] in dimension ' .. d) end
         pd[od + (v - 1) * sd] = ps[os]
      end, strideWithZero(self, d), self._offset, idx._stride, idx._offset, src._stride, src._offset)
   else
      U.each(U.sizes(idx), function(od, oi)
         local v = tonumber(pi[oi])
         if v < 1 or v > n then U.error('scatter', 'index ' .. v .. ' out of range [1, ' .. n .. '] in dimension ' .. d) end
         pd[od + (v - 1) * sd] = src
      end, strideWithZero(self, d), self._offset, idx._stride, idx._offset)
   end
   return self
end
U.install('scatter', scatter, function(rec, ...) return scatter(...) end)

---------------------------------------------------------------- masks
local function checkMask(name, t, mask)
   if not isT(mask) or recOf(mask) ~= byte then
      U.error(name, 'mask must be a torch.ByteTensor, got ' .. U.what(mask))
   end
   return U.conform(name, t, mask)
end

local function maskedSelect(res, src, mask)
   if not isT(src) then U.badArgs('maskedSelect', 'torch.maskedSelect([res,] src, ByteTensor)', res, src, mask) end
   mask = checkMask('maskedSelect', src, mask)
   local vals, n = {}, 0
   U.checkView(src); U.checkWalk(mask, src._size, src._dim)
   local ps, pm = src._storage._data, mask._storage._data
   U.each(U.sizes(src), function(os, om)
      if pm[om] ~= 0 then n = n + 1; vals[n] = ps[os] end
   end, src._stride, src._offset, mask._stride, mask._offset)
   res = res or U.newEmpty(recOf(src))
   if n == 0 then U.resize(res, {}) return res end
   U.resize(res, { n })
   local pr, o, st = res._storage._data, res._offset, res._stride[1]
   for i = 1, n do pr[o + (i - 1) * st] = vals[i] end
   return res
end
U.install('maskedSelect', function(self, a, b)
   if isT(a) and isT(b) then return maskedSelect(self, a, b) end
   return maskedSelect(nil, self, a)
end, function(rec, a, b, c)
   if isT(a) and isT(b) and isT(c) then return maskedSelect(a, b, c) end
   return maskedSelect(nil, a, b)
end)

local function maskedFill(self, mask, v)
   if not isT(self) or type(v) ~= 'number' then U.badArgs('maskedFill', 'tensor:maskedFill(ByteTensor, number)', self, mask, v) end
   mask = checkMask('maskedFill', self, mask)
   U.checkWritable('maskedFill', self)
   U.apply(U.kernel('if @X ~= 0 then !R = S2 end', self, mask), self, mask, nil, nil, nil, v)
   return self
end
U.install('maskedFill', maskedFill, function(rec, ...) return maskedFill(...) end)

local function maskedCopy(self, mask, src)
   if not isT(self) or not isT(src) then U.badArgs('maskedCopy', 'tensor:maskedCopy(ByteTensor, tensor)', self, mask, src) end
   mask = checkMask('maskedCopy', self, mask)
   U.checkWritable('maskedCopy', self)
   local c = U.contiguous(src)
   local ps, base, total = c._storage._data, c._offset, U.nElement(c)
   U.checkView(self); U.checkView(c); U.checkWalk(mask, self._size, self._dim)
   local pd, pm = self._storage._data, mask._storage._data
   local k = 0
   U.each(U.sizes(self), function(od, om)
      if pm[om] ~= 0 then
         if k >= total then
            U.error('maskedCopy', 'the source has ' .. total .. ' elements, fewer than the mask selects')
         end
         pd[od] = ps[base + k]
         k = k + 1
      end
   end, self._stride, self._offset, mask._stride, mask._offset)
   return self
end
U.install('maskedCopy', maskedCopy, function(rec, ...) return maskedCopy(...) end)

local function nonzero(res, x)
   if not isT(x) then U.badArgs('nonzero', 'torch.nonzero([res,] tensor)', res, x) end
   local dim = x._dim
   local found = {}
   local cnt = {}
   for j = 1, dim do cnt[j] = 1 end
   U.checkView(x)
   local p = x._storage._data
   U.each(U.sizes(x), function(o)
      if p[o] ~= 0 then
         local row = {}
         for j = 1, dim do row[j] = cnt[j] end
         found[#found + 1] = row
      end
      for j = dim, 1, -1 do
         cnt[j] = cnt[j] + 1
         if cnt[j] <= x._size[j] then break end
         cnt[j] = 1
      end
   end, x._stride, x._offset)
   res = res or U.newEmpty(long)
   if recOf(res) ~= long then U.error('nonzero', 'result must be a torch.LongTensor, got ' .. U.what(res)) end
   if #found == 0 then U.resize(res, {}) return res end
   U.resize(res, { #found, dim })
   local pr, s1, s2 = res._storage._data, res._stride[1], res._stride[2]
   for i, row in ipairs(found) do
      for j = 1, dim do pr[res._offset + (i - 1) * s1 + (j - 1) * s2] = row[j] end
   end
   return res
end
U.install('nonzero', function(self, a)
   if isT(a) then return nonzero(self, a) end
   return nonzero(nil, self)
end, function(rec, a, b)
   if isT(a) and isT(b) then return nonzero(a, b) end
   return nonzero(nil, a)
end)

return {}
