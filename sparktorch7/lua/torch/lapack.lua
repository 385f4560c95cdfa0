-- LAPACK TensorMath through numpy.linalg: gesv trtrs gels symeig eig svd inverse
-- potrf potrs potri pstrf qr. As in Torch7, matrix results are column-major
-- (transposed-contiguous) and result tensors given by the caller are reused.
local U = require 'torch.math_util'
local torch = _G.torch

local recOf, isT = U.recOf, U.isTensor

local function bridge(name)
   local np = rawget(torch, '_np')
   if not np then
      U.error(name, 'needs numpy: LAPACK functions run through numpy.linalg, which is only available inside sparktorch7.LuaState')
   end
   return np
end

local function checkFloat(name, ...)
   for i = 1, select('#', ...) do
      local t = select(i, ...)
      if t ~= nil and recOf(t).integral then
         U.error(name, 'expected a torch.DoubleTensor or torch.FloatTensor, got ' .. U.what(t))
      end
   end
end

local function matrix(name, t, what, square)
   if not isT(t) or t._dim ~= 2 then
      U.error(name, what .. ' must be a 2D tensor, got ' .. U.what(t))
   end
   if square and t._size[1] ~= t._size[2] then
      U.error(name, what .. ' must be a square matrix, got ' .. U.what(t))
   end
   return t
end

-- a result tensor with the given sizes, 2D ones column-major; res (if given) is reused
local function out(res, rec, sizes)
   res = res or U.newEmpty(rec)
   if #sizes == 2 then
      local r, c = sizes[1], sizes[2]
      if not (res._dim == 2 and res._size[1] == r and res._size[2] == c
              and (res._stride[1] == 1 or r == 1) and (res._stride[2] == r or c == 1)) then
         U.resize(res, { c, r })
         res._size = { r, c }
         res._stride = { res._stride[2], res._stride[1] }
      end
   else
      U.resize(res, sizes)
   end
   U.checkWritable('lapack', res)
   return res
end

-- inputs that are also outputs are copied first
local function protect(x, ...)
   for i = 1, select('#', ...) do
      if select(i, ...) == x then return U.clone(x) end
   end
   return x
end

-- a one-letter option among the allowed ones (default when nil)
local function option(name, what, v, default, allowed)
   if v == nil then return default end
   for _, a in ipairs(allowed) do
      if v == a then return v end
   end
   U.error(name, what .. " must be one of '" .. table.concat(allowed, "', '") .. "', got " .. U.what(v))
end

local function asColumns(b)
   if b._dim == 1 then return U.view(b, b._offset, { b._size[1], 1 }, { b._stride[1], 1 }) end
   return b
end

---------------------------------------------------------------- solvers
-- gesv([rb, ra,] b, a): a*x = b; returns x, LU
local function gesv(rb, ra, b, a)
   matrix('gesv', a, 'A', true)
   if not isT(b) then U.badArgs('gesv', 'torch.gesv([resb, resa,] B, A)', rb, ra, b, a) end
   b = asColumns(b)
   matrix('gesv', b, 'B')
   if b._size[1] ~= a._size[1] then
      U.error('gesv', 'A is ' .. U.sizeStr(a) .. ' but B has ' .. b._size[1] .. ' rows')
   end
   checkFloat('gesv', a, b)
   local np = bridge('gesv')
   a, b = protect(a, rb, ra), protect(b, rb, ra)
   rb = out(rb, recOf(b), U.sizes(b))
   ra = out(ra, recOf(a), U.sizes(a))
   np.call('lapack', 'gesv', rb, ra, b, a)
   return rb, ra
end

local function trtrs(rb, ra, b, a, uplo, trans, diag)
   matrix('trtrs', a, 'A', true)
   if not isT(b) then U.badArgs('trtrs', 'torch.trtrs([resb, resa,] B, A [, uplo, trans, diag])', rb, ra, b, a) end
   b = asColumns(b)
   matrix('trtrs', b, 'B')
   if b._size[1] ~= a._size[1] then
      U.error('trtrs', 'A is ' .. U.sizeStr(a) .. ' but B has ' .. b._size[1] .. ' rows')
   end
   uplo = option('trtrs', 'uplo', uplo, 'U', { 'U', 'L' })
   trans = option('trtrs', 'trans', trans, 'N', { 'N', 'T' })
   diag = option('trtrs', 'diag', diag, 'N', { 'N', 'U' })
   checkFloat('trtrs', a, b)
   local np = bridge('trtrs')
   a, b = protect(a, rb, ra), protect(b, rb, ra)
   rb = out(rb, recOf(b), U.sizes(b))
   ra = out(ra, recOf(a), U.sizes(a))
   np.call('lapack', 'trtrs', rb, ra, b, a, uplo, trans, diag)
   return rb, ra
end

local function gels(rb, ra, b, a)
   matrix('gels', a, 'A')
   if not isT(b) then U.badArgs('gels', 'torch.gels([resb, resa,] B, A)', rb, ra, b, a) end
   b = asColumns(b)
   matrix('gels', b, 'B')
   if b._size[1] ~= a._size[1] then
      U.error('gels', 'A is ' .. U.sizeStr(a) .. ' but B has ' .. b._size[1] .. ' rows')
   end
   checkFloat('gels', a, b)
   local np = bridge('gels')
   a, b = protect(a, rb, ra), protect(b, rb, ra)
   rb = out(rb, recOf(b), { a._size[2], b._size[2] })
   ra = out(ra, recOf(a), U.sizes(a))
   np.call('lapack', 'gels', rb, ra, b, a)
   return rb, ra
end

-- (resb, resa, b, a, ...) or (b, a, ...)
local function twoResults(f, usage, name)
   return function(...)
      local a1, a2, a3, a4 = ...
      if isT(a1) and isT(a2) and isT(a3) and isT(a4) then return f(...) end
      if isT(a1) and isT(a2) then return f(nil, nil, ...) end
      U.badArgs(name, usage, ...)
   end
end
for name, f in pairs({ gesv = gesv, trtrs = trtrs, gels = gels }) do
   local g = twoResults(f, 'torch.' .. name .. '([resb, resa,] B, A)', name)
   U.install(name, g, function(rec, ...) return g(...) end, U.isFloat)
end

---------------------------------------------------------------- eigen, svd
local function symeig(re, rv, a, jobz, uplo)
   matrix('symeig', a, 'A', true)
   jobz = option('symeig', 'jobz', jobz, 'N', { 'N', 'V' })
   uplo = option('symeig', 'uplo', uplo, 'U', { 'U', 'L' })
   checkFloat('symeig', a)
   local np = bridge('symeig')
   a = protect(a, re, rv)
   local n = a._size[1]
   re = out(re, recOf(a), { n })
   rv = out(rv, recOf(a), { n, n })
   np.call('lapack', 'symeig', re, rv, a, jobz, uplo)
   return re, rv
end

local function eig(re, rv, a, jobvr)
   matrix('eig', a, 'A', true)
   jobvr = option('eig', 'jobvr', jobvr, 'N', { 'N', 'V' })
   checkFloat('eig', a)
   local np = bridge('eig')
   a = protect(a, re, rv)
   local n = a._size[1]
   re = re or U.newEmpty(recOf(a))
   U.resize(re, { n, 2 })
   rv = out(rv, recOf(a), { n, n })
   np.call('lapack', 'eig', re, rv, a, jobvr)
   if jobvr == 'V' then return re, rv end
   return re
end

local function svd(ru, rs, rv, a, jobu)
   matrix('svd', a, 'A')
   jobu = option('svd', 'jobu', jobu, 'S', { 'S', 'A' })
   checkFloat('svd', a)
   local np = bridge('svd')
   a = protect(a, ru, rs, rv)
   local m, n = a._size[1], a._size[2]
   local k = math.min(m, n)
   ru = out(ru, recOf(a), { m, jobu == 'A' and m or k })
   rs = out(rs, recOf(a), { k })
   rv = out(rv, recOf(a), { n, jobu == 'A' and n or k })
   np.call('lapack', 'svd', ru, rs, rv, a, jobu)
   return ru, rs, rv
end

U.install('symeig', function(...)
   local a1, a2, a3 = ...
   if isT(a1) and isT(a2) and isT(a3) then return symeig(...) end
   if isT(a1) then return symeig(nil, nil, ...) end
   U.badArgs('symeig', 'torch.symeig([rese, resv,] A [, jobz [, uplo]])', ...)
end, function(rec, ...) return torch.DoubleTensor.symeig(...) end, U.isFloat)
U.install('eig', function(...)
   local a1, a2, a3 = ...
   if isT(a1) and isT(a2) and isT(a3) then return eig(...) end
   if isT(a1) then return eig(nil, nil, ...) end
   U.badArgs('eig', 'torch.eig([rese, resv,] A [, jobvr])', ...)
end, function(rec, ...) return torch.DoubleTensor.eig(...) end, U.isFloat)
U.install('svd', function(...)
   local a1, a2, a3, a4 = ...
   if isT(a1) and isT(a2) and isT(a3) and isT(a4) then return svd(...) end
   if isT(a1) then return svd(nil, nil, nil, ...) end
   U.badArgs('svd', 'torch.svd([resu, ress, resv,] A [, jobu])', ...)
end, function(rec, ...) return torch.DoubleTensor.svd(...) end, U.isFloat)

---------------------------------------------------------------- inverse, cholesky, qr
local function oneMatrix(name, op, square, hasUplo)
   local function go(res, a, uplo, extra)
      matrix(name, a, 'A', square)
      checkFloat(name, a)
      if hasUplo then
         uplo = option(name, 'uplo', uplo, 'U', { 'U', 'L' })
      elseif uplo ~= nil then
         U.badArgs(name, 'torch.' .. name .. '([res,] A)', res, a, uplo)
      end
      if extra ~= nil then U.badArgs(name, 'torch.' .. name .. '([res,] A [, uplo])', res, a, uplo, extra) end
      local np = bridge(name)
      a = protect(a, res)
      res = out(res, recOf(a), U.sizes(a))
      np.call('lapack', op, res, a, uplo)
      return res
   end
   local function entry(a1, ...)
      if isT(a1) and isT((...)) then return go(a1, ...) end
      if isT(a1) then return go(nil, a1, ...) end
      U.badArgs(name, 'torch.' .. name .. '([res,] A ...)', a1, ...)
   end
   U.install(name, entry, function(rec, ...) return entry(...) end, U.isFloat)
end
oneMatrix('inverse', 'inverse', true, false)
oneMatrix('potrf', 'potrf', true, true)
oneMatrix('potri', 'potri', true, true)

-- potrs([res,] b, chol [, uplo])
local function potrs(res, b, chol, uplo)
   matrix('potrs', chol, 'the Cholesky factor', true)
   if not isT(b) then U.badArgs('potrs', 'torch.potrs([res,] B, chol [, uplo])', res, b, chol, uplo) end
   b = asColumns(b)
   matrix('potrs', b, 'B')
   checkFloat('potrs', b, chol)
   local np = bridge('potrs')
   b, chol = protect(b, res), protect(chol, res)
   res = out(res, recOf(b), U.sizes(b))
   np.call('lapack', 'potrs', res, b, chol, option('potrs', 'uplo', uplo, 'U', { 'U', 'L' }))
   return res
end
local function potrsEntry(a1, a2, a3, a4)
   if isT(a1) and isT(a2) and isT(a3) then return potrs(a1, a2, a3, a4) end
   return potrs(nil, a1, a2, a3)
end
U.install('potrs', potrsEntry, function(rec, ...) return potrsEntry(...) end, U.isFloat)

-- pstrf([res, piv,] a [, uplo]) -> factor, IntTensor of pivots
local intRec = U.byName.Int
local function pstrf(res, piv, a, uplo)
   matrix('pstrf', a, 'A', true)
   checkFloat('pstrf', a)
   local np = bridge('pstrf')
   a = protect(a, res)
   local n = a._size[1]
   res = out(res, recOf(a), { n, n })
   piv = piv or U.newEmpty(intRec)
   U.resize(piv, { n })
   np.call('lapack', 'pstrf', res, piv, a, option('pstrf', 'uplo', uplo, 'U', { 'U', 'L' }))
   return res, piv
end
local function pstrfEntry(a1, a2, a3, a4)
   if isT(a1) and isT(a2) and isT(a3) then return pstrf(a1, a2, a3, a4) end
   return pstrf(nil, nil, a1, a2)
end
U.install('pstrf', pstrfEntry, function(rec, ...) return pstrfEntry(...) end, U.isFloat)

-- qr([q, r,] a)
local function qr(rq, rr, a)
   matrix('qr', a, 'A')
   checkFloat('qr', a)
   local np = bridge('qr')
   a = protect(a, rq, rr)
   local m, n = a._size[1], a._size[2]
   local k = math.min(m, n)
   rq = out(rq, recOf(a), { m, k })
   rr = out(rr, recOf(a), { k, n })
   np.call('lapack', 'qr', rq, rr, a)
   return rq, rr
end
local function qrEntry(a1, a2, a3)
   if isT(a1) and isT(a2) and isT(a3) then return qr(a1, a2, a3) end
   return qr(nil, nil, a1)
end
U.install('qr', qrEntry, function(rec, ...) return qrEntry(...) end, U.isFloat)

-- geqrf([m, tau,] a): LAPACK's k = min(rows, cols) elementary reflectors, any shape.
-- orgqr([q,] m, tau): as Torch7 calls ?orgqr(rows, k, k) with k = #tau, q has m's size and
-- its first k columns are Q's (for a wide m that is all of the rows x rows Q); the other
-- columns keep m's values. ormqr([res,] m, tau, mat [, side [, trans]]): Q * mat ('L') or
-- mat * Q ('R'), Q' with 'T', Q being rows x rows for m of any width.
local function geqrf(rm, rtau, a)
   matrix('geqrf', a, 'A')
   checkFloat('geqrf', a)
   local np = bridge('geqrf')
   a = protect(a, rm, rtau)
   rm = out(rm, recOf(a), U.sizes(a))
   rtau = out(rtau, recOf(a), { math.min(a._size[1], a._size[2]) })
   np.call('lapack', 'geqrf', rm, rtau, a)
   return rm, rtau
end
local function geqrfEntry(a1, a2, a3)
   if isT(a1) and isT(a2) and isT(a3) then return geqrf(a1, a2, a3) end
   return geqrf(nil, nil, a1)
end
U.install('geqrf', geqrfEntry, function(rec, ...) return geqrfEntry(...) end, U.isFloat)

local function checkTau(name, m, tau)
   matrix(name, m, 'the reflectors')
   if not isT(tau) or tau._dim ~= 1 or tau._size[1] > math.min(m._size[1], m._size[2]) then
      U.error(name, 'tau must be a 1D tensor of at most ' .. math.min(m._size[1], m._size[2]) .. ' elements, got ' .. U.what(tau))
   end
   checkFloat(name, m, tau)
end

local function orgqr(rq, m, tau)
   checkTau('orgqr', m, tau)
   local np = bridge('orgqr')
   m, tau = protect(m, rq), protect(tau, rq)
   rq = out(rq, recOf(m), U.sizes(m))
   np.call('lapack', 'orgqr', rq, m, tau)
   return rq
end
local function orgqrEntry(a1, a2, a3)
   if isT(a1) and isT(a2) and isT(a3) then return orgqr(a1, a2, a3) end
   return orgqr(nil, a1, a2)
end
U.install('orgqr', orgqrEntry, function(rec, ...) return orgqrEntry(...) end, U.isFloat)

local function ormqr(res, m, tau, c, side, trans)
   checkTau('ormqr', m, tau)
   matrix('ormqr', c, 'the matrix')
   side = option('ormqr', 'side', side, 'L', { 'L', 'R' })
   trans = option('ormqr', 'trans', trans, 'N', { 'N', 'T' })
   local rows = m._size[1]
   if (side == 'L' and c._size[1] ~= rows) or (side == 'R' and c._size[2] ~= rows) then
      U.error('ormqr', 'Q is ' .. rows .. 'x' .. rows .. ' but the matrix is ' .. U.sizeStr(c) .. " (side '" .. side .. "')")
   end
   local np = bridge('ormqr')
   m, tau, c = protect(m, res), protect(tau, res), protect(c, res)
   res = out(res, recOf(c), U.sizes(c))
   np.call('lapack', 'ormqr', res, m, tau, c, side, trans)
   return res
end
local function ormqrEntry(a1, a2, a3, a4, ...)
   if isT(a1) and isT(a2) and isT(a3) and isT(a4) then return ormqr(a1, a2, a3, a4, ...) end
   return ormqr(nil, a1, a2, a3, a4, ...)
end
U.install('ormqr', ormqrEntry, function(rec, ...) return ormqrEntry(...) end, U.isFloat)

return {}
