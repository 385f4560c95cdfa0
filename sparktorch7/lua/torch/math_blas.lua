-- BLAS-like TensorMath: dot mv mm bmm addmv addmm addbmm baddbmm addr ger cross.
-- Large products go to numpy (torch._np.call -> sparktorch7._ops); small ones, and
-- every product in a bare luajit without numpy, run as Lua loops.
local U = require 'torch.math_util'
local torch = _G.torch

local recOf, isT = U.recOf, U.isTensor
local tonumber = tonumber

local function np() return rawget(torch, '_np') end

local function checkDims(name, t, dims, what)
   if not isT(t) or t._dim ~= dims then
      U.error(name, string.format('%s must be a %dD tensor, got %s', what, dims, U.what(t)))
   end
end

local function sameType(name, ...)
   local rec
   for i = 1, select('#', ...) do
      local t = select(i, ...)
      if t ~= nil then
         local r = recOf(t)
         if rec and r ~= rec then
            U.error(name, 'all tensors must have the same type, got ' .. rec.tname .. ' and ' .. r.tname)
         end
         rec = r
      end
   end
end

-- res := beta*C + alpha*A*B for 2D A (n x k), B (k x p); res already n x p, C n x p (may be res)
local function gemmLua(res, beta, C, alpha, A, B)
   local n, k, p = A._size[1], A._size[2], B._size[2]
   U.checkView(A); U.checkView(B); U.checkView(res); U.checkView(C)
   local pa, pb, pr, pc = A._storage._data, B._storage._data, res._storage._data, C._storage._data
   local as1, as2, bs1, bs2 = A._stride[1], A._stride[2], B._stride[1], B._stride[2]
   local rs1, rs2, cs1, cs2 = res._stride[1], res._stride[2], C._stride[1], C._stride[2]
   local ao, bo, ro, co = A._offset, B._offset, res._offset, C._offset
   local rowA = {}
   for i = 0, n - 1 do
      for l = 0, k - 1 do rowA[l] = tonumber(pa[ao + i * as1 + l * as2]) end
      for j = 0, p - 1 do
         local s = 0
         local bj = bo + j * bs2
         for l = 0, k - 1 do s = s + rowA[l] * tonumber(pb[bj + l * bs1]) end
         local cv = 0
         if beta ~= 0 then cv = beta * tonumber(pc[co + i * cs1 + j * cs2]) end
         pr[ro + i * rs1 + j * rs2] = cv + alpha * s
      end
   end
end

local function asMatrix(v, asColumn)
   -- a 1D tensor seen as n x 1 (column) or 1 x n (row)
   if asColumn then return U.view(v, v._offset, { v._size[1], 1 }, { v._stride[1], 1 }) end
   return U.view(v, v._offset, { 1, v._size[1] }, { 1, v._stride[1] })
end

-- the common path of every product: op is the _ops name
local product
function product(op, res, beta, C, alpha, A, B, work)
   local rec = recOf(res)
   beta, alpha = U.real(rec, beta), U.real(rec, alpha)
   local bridge = np()
   -- below torch._np.thresholds.product multiply-adds a Lua loop beats the trip to Python
   if bridge and work >= bridge.thresholds.product then
      bridge.call(op, res, beta, C, alpha, A, B)
      return res
   end
   if res._storage == A._storage or res._storage == B._storage then
      -- the result overlaps an operand: compute aside, then copy
      local tmp = U.clone(res)
      product(op, tmp, beta, C == res and tmp or C, alpha, A, B, 0)
      U.copyInto(res, tmp)
      return res
   end
   if op == 'addmm' then
      gemmLua(res, beta, C, alpha, A, B)
   elseif op == 'addmv' then
      gemmLua(asMatrix(res, true), beta, asMatrix(C, true), alpha, A, asMatrix(B, true))
   elseif op == 'addr' then
      gemmLua(res, beta, C, alpha, asMatrix(A, true), asMatrix(B, false))
   elseif op == 'baddbmm' then
      for i = 1, A._size[1] do
         gemmLua(U.select(res, 1, i), beta, U.select(C, 1, i), alpha, U.select(A, 1, i), U.select(B, 1, i))
      end
   elseif op == 'addbmm' then
      for i = 1, A._size[1] do
         gemmLua(res, i == 1 and beta or 1, i == 1 and C or res, alpha, U.select(A, 1, i), U.select(B, 1, i))
      end
      if A._size[1] == 0 then gemmLua(res, beta, C, 0, U.narrow(res, 2, 1, 0), U.narrow(res, 1, 1, 0)) end
   end
   return res
end

-- shape rules: returns result sizes, work; errors name the mismatch
local shapes = {
   addmm = function(name, A, B)
      checkDims(name, A, 2, 'matrix1'); checkDims(name, B, 2, 'matrix2')
      if A._size[2] ~= B._size[1] then
         U.error(name, 'size mismatch: matrix1 is ' .. U.sizeStr(A) .. ', matrix2 is ' .. U.sizeStr(B))
      end
      return { A._size[1], B._size[2] }, A._size[1] * A._size[2] * B._size[2]
   end,
   addmv = function(name, A, B)
      checkDims(name, A, 2, 'matrix'); checkDims(name, B, 1, 'vector')
      if A._size[2] ~= B._size[1] then
         U.error(name, 'size mismatch: matrix is ' .. U.sizeStr(A) .. ', vector is ' .. U.sizeStr(B))
      end
      return { A._size[1] }, A._size[1] * A._size[2]
   end,
   addr = function(name, A, B)
      checkDims(name, A, 1, 'vector1'); checkDims(name, B, 1, 'vector2')
      return { A._size[1], B._size[1] }, A._size[1] * B._size[1]
   end,
   baddbmm = function(name, A, B)
      checkDims(name, A, 3, 'batch1'); checkDims(name, B, 3, 'batch2')
      if A._size[1] ~= B._size[1] or A._size[3] ~= B._size[2] then
         U.error(name, 'size mismatch: batch1 is ' .. U.sizeStr(A) .. ', batch2 is ' .. U.sizeStr(B))
      end
      return { A._size[1], A._size[2], B._size[3] }, A._size[1] * A._size[2] * A._size[3] * B._size[3]
   end,
   addbmm = function(name, A, B)
      checkDims(name, A, 3, 'batch1'); checkDims(name, B, 3, 'batch2')
      if A._size[1] ~= B._size[1] or A._size[3] ~= B._size[2] then
         U.error(name, 'size mismatch: batch1 is ' .. U.sizeStr(A) .. ', batch2 is ' .. U.sizeStr(B))
      end
      return { A._size[2], B._size[3] }, A._size[1] * A._size[2] * A._size[3] * B._size[3]
   end,
}

-- res := A*B (mm, mv, ger, bmm)
local function plain(name, op, res, A, B)
   local sizes, work = shapes[op](name, A, B)
   sameType(name, res, A, B)
   res = res or U.new(recOf(A), sizes)
   U.resize(res, sizes)
   U.checkWritable(name, res)
   return product(op, res, 0, res, 1, A, B, work)
end

for name, op in pairs({ mm = 'addmm', mv = 'addmv', ger = 'addr', bmm = 'baddbmm' }) do
   U.install(name, function(self, a, b)
      if isT(self) and isT(a) and isT(b) then return plain(name, op, self, a, b) end
      U.badArgs(name, 'res:' .. name .. '(tensor1, tensor2)', self, a, b)
   end, function(rec, a, b, c)
      if isT(a) and isT(b) and c == nil then return plain(name, op, nil, a, b) end
      if isT(a) and isT(b) and isT(c) then return plain(name, op, a, b, c) end
      U.badArgs(name, 'torch.' .. name .. '([res,] tensor1, tensor2)', a, b, c)
   end)
end

-- addmm family: [res,] [beta,] M, [alpha,] A, B  (method: self is res, M defaults to self)
local function parseAdd(name, isMethod, ...)
   local n = select('#', ...)
   local ts, nums = {}, {}
   for i = 1, n do
      local v = select(i, ...)
      if isT(v) then ts[#ts + 1] = v
      elseif type(v) == 'number' then nums[#nums + 1] = { v, #ts }
      elseif v ~= nil then return nil end
   end
   local nt = #ts
   if nt < 2 then return nil end
   local A, B = ts[nt - 1], ts[nt]
   local res, M
   if isMethod then
      if nt == 3 then res, M = ts[1], ts[1]
      elseif nt == 4 then res, M = ts[1], ts[2]
      else return nil end
   else
      if nt == 3 then M = ts[1]
      elseif nt == 4 then res, M = ts[1], ts[2]
      else return nil end
   end
   local mpos = nt - 2   -- M's position among the tensors
   local beta, alpha = 1, 1
   if isMethod and nt == 3 then
      -- no explicit M: one number is alpha, two are beta, alpha
      if #nums == 1 then alpha = nums[1][1]
      elseif #nums == 2 then beta, alpha = nums[1][1], nums[2][1]
      elseif #nums > 2 then return nil end
   else
      for _, e in ipairs(nums) do
         if e[2] < mpos then beta = e[1] else alpha = e[1] end
      end
      if #nums > 2 then return nil end
   end
   return res, beta, M, alpha, A, B
end

for _, op in ipairs({ 'addmm', 'addmv', 'addr', 'addbmm', 'baddbmm' }) do
   local usage = op .. '([res,] [beta,] M, [alpha,] tensor1, tensor2)'
   local function go(isMethod, ...)
      local res, beta, M, alpha, A, B = parseAdd(op, isMethod, ...)
      if M == nil then U.badArgs(op, usage, ...) end
      local sizes, work = shapes[op](op, A, B)
      if M._dim ~= #sizes then
         U.error(op, 'size mismatch: M is ' .. U.sizeStr(M) .. ', the product is ' .. table.concat(sizes, 'x'))
      end
      for i = 1, #sizes do
         if M._size[i] ~= sizes[i] then
            U.error(op, 'size mismatch: M is ' .. U.sizeStr(M) .. ', the product is ' .. table.concat(sizes, 'x'))
         end
      end
      sameType(op, res, M, A, B)
      if res == nil then res = U.new(recOf(M), sizes) elseif res ~= M then U.resize(res, sizes) end
      U.checkWritable(op, res)
      return product(op, res, beta, M, alpha, A, B, work)
   end
   U.install(op, function(...) return go(true, ...) end, function(rec, ...) return go(false, ...) end)
end

---------------------------------------------------------------- dot, cross
local function dot(a, b)
   if not (isT(a) and isT(b)) then U.badArgs('dot', 'torch.dot(tensor1, tensor2)', a, b) end
   if U.nElement(a) ~= U.nElement(b) then
      U.error('dot', 'inconsistent tensor size: ' .. U.sizeStr(a) .. ' and ' .. U.sizeStr(b))
   end
   local bb = U.conform('dot', a, b)
   return U.apply(U.kernel('S1 = S1 + @R * @X', a, bb), a, bb, nil, nil, 0)
end
U.install('dot', dot, function(rec, a, b) return dot(a, b) end)

local function cross(res, a, b, d)
   if not (isT(a) and isT(b)) then U.badArgs('cross', 'torch.cross([res,] a, b [, dim])', res, a, b, d) end
   if not U.sameSize(a, b) then
      U.error('cross', 'inconsistent tensor sizes ' .. U.sizeStr(a) .. ' and ' .. U.sizeStr(b))
   end
   if d == nil then
      for i = 1, a._dim do
         if a._size[i] == 3 then d = i; break end
      end
      if d == nil then U.error('cross', 'no dimension of size 3 in ' .. U.what(a)) end
   end
   U.checkDim('cross', a, d)
   if a._size[d] ~= 3 then U.error('cross', 'dimension ' .. d .. ' does not have size 3 in ' .. U.what(a)) end
   res = res or U.new(recOf(a), U.sizes(a))
   U.resize(res, U.sizes(a))
   U.checkView(a); U.checkWalk(b, a._size, a._dim); U.checkView(res)
   local pa, pb, pr = a._storage._data, b._storage._data, res._storage._data
   local sa, sb, sr = a._stride[d], b._stride[d], res._stride[d]
   local outer = U.without(a._size, a._dim, d)
   U.each(outer, function(oa, ob, orr)
      local a1, a2, a3 = tonumber(pa[oa]), tonumber(pa[oa + sa]), tonumber(pa[oa + 2 * sa])
      local b1, b2, b3 = tonumber(pb[ob]), tonumber(pb[ob + sb]), tonumber(pb[ob + 2 * sb])
      pr[orr] = a2 * b3 - a3 * b2
      pr[orr + sr] = a3 * b1 - a1 * b3
      pr[orr + 2 * sr] = a1 * b2 - a2 * b1
   end, U.without(a._stride, a._dim, d), a._offset, U.without(b._stride, b._dim, d), b._offset,
      U.without(res._stride, res._dim, d), res._offset)
   return res
end
U.install('cross', function(self, a, b, c)
   if isT(self) and isT(a) and isT(b) then return cross(self, a, b, c) end
   if isT(self) and isT(a) then return cross(nil, self, a, b) end
   U.badArgs('cross', 'a:cross(b [, dim])', self, a, b, c)
end, function(rec, a, b, c, d)
   if isT(a) and isT(b) and isT(c) then return cross(a, b, c, d) end
   return cross(nil, a, b, c)
end)

return { product = product, gemmLua = gemmLua }
