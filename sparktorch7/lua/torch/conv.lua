-- conv2 xcorr2 conv3 xcorr3 with 'V' (valid) and 'F' (full) modes, through numpy
-- (Lua loops when numpy is not there).
-- x and k of the same rank: plain; x and k one rank more: plane by plane ("cmul");
-- k two ranks more than a plane: k[o][i] applied to x[i] and summed over i ("mv").
local U = require 'torch.math_util'
local torch = _G.torch

local recOf, isT = U.recOf, U.isTensor

-- Lua fallback (no numpy): out (+)= correlation of x with k (flipped for a convolution);
-- out, x, k have `spatial` dimensions; 'F' mode pads x with zeros first
local function padded(x, kshape)
   local sz = U.sizes(x)
   for d = 1, #sz do sz[d] = sz[d] + 2 * (kshape[d] - 1) end
   local p = U.fill(U.new(recOf(x), sz), 0)
   local inner = p
   for d = 1, #kshape do inner = U.narrow(inner, d, kshape[d], x._size[d]) end
   U.copyInto(inner, x)
   return p
end

local function correlateLua(out, x, k, full, flip, accumulate)
   local spatial = k._dim
   local kshape = U.sizes(k)
   if full then x = padded(x, kshape) end
   -- every kernel position: its offset in k (flipped for convolutions) and in x
   local kOff, xRel, n = {}, {}, 0
   U.each(kshape, function(ok, ox)
      n = n + 1
      kOff[n], xRel[n] = ok, ox
   end, k._stride, 0, x._stride, 0)
   if flip then
      local total = 0
      for d = 1, spatial do total = total + (kshape[d] - 1) * k._stride[d] end
      for j = 1, n do kOff[j] = total - kOff[j] end
   end
   U.checkView(k); U.checkView(x); U.checkView(out)
   local pk, px, po = k._storage._data, x._storage._data, out._storage._data
   local kbase = k._offset
   local kv = {}
   for j = 1, n do kv[j] = tonumber(pk[kbase + kOff[j]]) end
   U.each(U.sizes(out), function(oo, ox)
      local acc = 0
      for j = 1, n do acc = acc + kv[j] * tonumber(px[ox + xRel[j]]) end
      if accumulate then acc = acc + tonumber(po[oo]) end
      po[oo] = acc
   end, out._stride, out._offset, x._stride, x._offset)
end

local function convLua(res, x, k, mode, xcorr, kind)
   local full, flip = mode == 'F', not xcorr
   if kind == 'mul' then
      correlateLua(res, x, k, full, flip, false)
   elseif kind == 'cmul' then
      for i = 1, x._size[1] do
         correlateLua(U.select(res, 1, i), U.select(x, 1, i), U.select(k, 1, i), full, flip, false)
      end
   else
      U.fill(res, 0)
      for o = 1, k._size[1] do
         local ko, ro = U.select(k, 1, o), U.select(res, 1, o)
         for i = 1, x._size[1] do
            correlateLua(ro, U.select(x, 1, i), U.select(ko, 1, i), full, flip, true)
         end
      end
   end
end

local function conv(name, spatial, xcorr, res, x, k, mode)
   if not (isT(x) and isT(k)) then
      U.badArgs(name, 'torch.' .. name .. '([res,] x, kernel [, \'V\' | \'F\'])', res, x, k, mode)
   end
   mode = mode or 'V'
   if mode ~= 'V' and mode ~= 'F' then
      U.error(name, 'mode must be \'V\' (valid) or \'F\' (full), got ' .. U.what(mode))
   end
   local kind
   if x._dim == spatial and k._dim == spatial then kind = 'mul'
   elseif x._dim == spatial + 1 and k._dim == spatial + 1 then kind = 'cmul'
   elseif x._dim == spatial + 1 and k._dim == spatial + 2 then kind = 'mv'
   else
      U.error(name, string.format('expected a %dD input with a %dD kernel, a %dD input with a %dD kernel, or a %dD input with a %dD kernel; got %s and %s',
         spatial, spatial, spatial + 1, spatial + 1, spatial + 1, spatial + 2, U.what(x), U.what(k)))
   end
   if kind == 'cmul' and x._size[1] ~= k._size[1] then
      U.error(name, 'input and kernel must have the same number of planes, got ' .. U.what(x) .. ' and ' .. U.what(k))
   end
   if kind == 'mv' and x._size[1] ~= k._size[2] then
      U.error(name, 'the kernel expects ' .. k._size[2] .. ' input planes, the input has ' .. x._size[1])
   end
   local sizes = {}
   local xs, ks = x._dim - spatial, k._dim - spatial
   for d = 1, spatial do
      local xn, kn = x._size[xs + d], k._size[ks + d]
      if mode == 'V' then
         if kn > xn then
            U.error(name, 'the kernel ' .. U.sizeStr(k) .. ' is larger than the input ' .. U.sizeStr(x) .. ' (valid mode)')
         end
         sizes[d] = xn - kn + 1
      else
         sizes[d] = xn + kn - 1
      end
   end
   if kind == 'cmul' then table.insert(sizes, 1, x._size[1]) end
   if kind == 'mv' then table.insert(sizes, 1, k._size[1]) end
   if recOf(x) ~= recOf(k) then
      U.error(name, 'input and kernel must have the same type, got ' .. recOf(x).tname .. ' and ' .. recOf(k).tname)
   end
   if res == x or res == k then res = nil end
   res = res or U.newEmpty(recOf(x))
   U.resize(res, sizes)
   U.checkWritable(name, res)
   local np = rawget(torch, '_np')
   if np then
      np.call('conv', res, x, k, mode, xcorr, kind, spatial)
   else
      convLua(res, x, k, mode, xcorr, kind)
   end
   return res
end

for name, spec in pairs({ conv2 = { 2, false }, xcorr2 = { 2, true }, conv3 = { 3, false }, xcorr3 = { 3, true } }) do
   local spatial, xcorr = spec[1], spec[2]
   local function entry(a, b, c, d)
      if isT(a) and isT(b) and isT(c) then return conv(name, spatial, xcorr, a, b, c, d) end
      return conv(name, spatial, xcorr, nil, a, b, c)
   end
   U.install(name, entry, function(rec, ...) return entry(...) end)
end

return {}
