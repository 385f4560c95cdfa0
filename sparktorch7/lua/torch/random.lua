-- Random numbers: torch.Generator (Mersenne Twister MT19937 over FFI), the global
-- generator's seeding and state, and the random tensor fillers and samplers.
local ffi = require 'ffi'
local bit = require 'bit'
local U = require 'torch.math_util'
local torch = _G.torch

local recOf, isT = U.recOf, U.isTensor
local band, bor, bxor, lshift, rshift = bit.band, bit.bor, bit.bxor, bit.lshift, bit.rshift
local floor, log, sqrt, cos, sin, tan, exp, pi = math.floor, math.log, math.sqrt, math.cos, math.sin, math.tan, math.exp, math.pi

pcall(ffi.cdef, [[
typedef struct {
  uint32_t state[624];
  int32_t left, next;
  double seed;
  double normal_x, normal_rho;
  int32_t normal_is_valid, pad;
} sparktorch7_mt19937;
]])
local MTptr = ffi.typeof('sparktorch7_mt19937*')
local MTsize = ffi.sizeof('sparktorch7_mt19937')
local N, M = 624, 397
local TWO32 = 4294967296

local function seedState(s, seed)
   ffi.fill(s, MTsize, 0)
   s.seed = seed
   local x = seed % TWO32
   s.state[0] = x
   for j = 1, N - 1 do
      local y = bxor(x, rshift(x, 30)) % TWO32
      -- 1812433253 * y + j modulo 2^32, exact in doubles by splitting y
      local hi, lo = floor(y / 65536), y % 65536
      x = ((1812433253 * hi) % 65536 * 65536 + 1812433253 * lo + j) % TWO32
      s.state[j] = x
   end
   s.left = 1
   s.next = 0
   s.normal_is_valid = 0
end

local function twist(u, v)
   local y = rshift(bor(band(u, 0x80000000), band(v, 0x7fffffff)), 1)
   if band(v, 1) ~= 0 then y = bxor(y, 0x9908b0df) end
   return y
end

local function nextState(s)
   local st = s.state
   for j = 0, N - M - 1 do st[j] = bxor(st[j + M], twist(st[j], st[j + 1])) end
   for j = N - M, N - 2 do st[j] = bxor(st[j + M - N], twist(st[j], st[j + 1])) end
   st[N - 1] = bxor(st[M - 1], twist(st[N - 1], st[0]))
   s.left = N
   s.next = 0
end

-- next 32-bit integer as a number in [0, 2^32)
local function u32(s)
   local left = s.left - 1
   if left == 0 then
      nextState(s)
      left = N
   end
   s.left = left
   local i = s.next
   s.next = i + 1
   local y = s.state[i]
   y = bxor(y, rshift(y, 11))
   y = bxor(y, band(lshift(y, 7), 0x9d2c5680))
   y = bxor(y, band(lshift(y, 15), 0xefc60000))
   y = bxor(y, rshift(y, 18))
   return y % TWO32
end

-- uniform in [0, 1): one 32-bit draw over 2^32, as Torch7's THRandom (so a seed gives
-- Torch7's numbers, and every value has at most 32 significant bits)
local function unif(s)
   return u32(s) / TWO32
end

local function normal(s)
   if s.normal_is_valid == 0 then
      s.normal_x = unif(s)
      s.normal_rho = sqrt(-2 * log(1 - unif(s)))
      s.normal_is_valid = 1
      return s.normal_rho * cos(2 * pi * s.normal_x)
   end
   s.normal_is_valid = 0
   return s.normal_rho * sin(2 * pi * s.normal_x)
end

U.H.mt_u32, U.H.mt_unif, U.H.mt_normal = u32, unif, normal

---------------------------------------------------------------- torch.Generator
local Generator = torch.class('torch.Generator')
local byteRec = U.byName.Byte

function Generator:__init()
   self._state = U.new(byteRec, { MTsize })
   seedState(ffi.cast(MTptr, self._state._storage._data), os.time())
end

-- What is wrong with a generator state (a ByteTensor holding the MT19937 struct), or nil.
-- Its counters index state[]: u32 reads state[next .. next + left - 2] before the next
-- twist, so a forged `left`/`next` would read outside the struct.
local function stateProblem(t)
   if recOf(t) ~= byteRec or U.nElement(t) ~= MTsize or not U.isContiguous(t) then
      return 'expected a contiguous torch.ByteTensor of ' .. MTsize .. ' bytes, got ' .. U.what(t)
   end
   local st = t._storage
   local why = torch._viewProblem(st._size, t._offset, t._size, t._stride, t._dim)
   if why then return 'its tensor is invalid: ' .. why end
   local s = ffi.cast(MTptr, st._data + t._offset)
   local left, nxt = s.left, s.next
   if not (left >= 1 and nxt >= 0 and nxt + left <= N + 1) then
      return string.format('its counters left=%d, next=%d are out of range (expected left >= 1, next >= 0 ' ..
         'and left + next <= %d)', left, nxt, N + 1)
   end
   return nil
end
torch._rngStateProblem = stateProblem

local function stateOf(g)
   local t = rawget(g, '_state')
   local why = stateProblem(t)
   if why == nil and t._storage._readonly then why = 'its memory is read-only' end
   if why then
      U.error('Generator', 'the generator has no valid state (' .. why .. ')')
   end
   return ffi.cast(MTptr, t._storage._data + t._offset)
end

local default = torch.Generator()
torch._defaultGenerator = default

local function isGen(x)
   return type(x) == 'table' and rawget(x, '_state') ~= nil and torch.typename(x) == 'torch.Generator'
end

-- split an optional leading generator off the arguments
local function genArgs(...)
   local g = ...
   if isGen(g) then return stateOf(g), g, select(2, ...) end
   return stateOf(default), default, ...
end

function torch.manualSeed(...)
   local s, _, seed = genArgs(...)
   if type(seed) ~= 'number' then U.badArgs('manualSeed', 'torch.manualSeed([gen,] number)', ...) end
   seedState(s, seed)
end

function torch.seed(...)
   local s = genArgs(...)
   local t = os.time()
   local seed = (t * 1000 + floor((os.clock() * 1e6) % 1000)) % 2 ^ 53
   seedState(s, seed)
   return seed
end

function torch.initialSeed(...)
   local s = genArgs(...)
   return s.seed
end

function torch.getRNGState(...)
   local _, g = genArgs(...)
   return U.clone(g._state)
end

function torch.setRNGState(...)
   local _, g, state = genArgs(...)
   if recOf(state) ~= byteRec or U.nElement(state) ~= MTsize then
      U.error('setRNGState', 'expected a RNG state (torch.ByteTensor of ' .. MTsize .. ' elements from getRNGState), got ' .. U.what(state))
   end
   local c = U.viewContig(U.contiguous(state), { MTsize })
   local why = stateProblem(c)
   if why then U.error('setRNGState', 'invalid RNG state: ' .. why) end
   U.copyInto(g._state, c)
   return state
end

---------------------------------------------------------------- numbers
local sampler = {}   -- name -> function(s, a, b) -> number, with defaults applied by caller
sampler.uniform = function(s, a, b) return unif(s) * (b - a) + a end
sampler.normal = function(s, m, sd) return normal(s) * sd + m end
sampler.exponential = function(s, lambda) return -1 / lambda * log(1 - unif(s)) end
sampler.cauchy = function(s, med, sigma) return med + sigma * tan(pi * (unif(s) - 0.5)) end
sampler.logNormal = function(s, m, sd) return exp(normal(s) * sd + m) end
sampler.geometric = function(s, p) return floor(log(1 - unif(s)) / log(p)) + 1 end
sampler.bernoulli = function(s, p) return unif(s) <= p and 1 or 0 end

local defaults = {
   uniform = { 0, 1 }, normal = { 0, 1 }, exponential = { 1 }, cauchy = { 0, 1 },
   logNormal = { 1, 2 }, geometric = { nil }, bernoulli = { 0.5 },
}
local checks = {
   normal = function(a, b) if b <= 0 then return 'standard deviation must be strictly positive, got ' .. b end end,
   logNormal = function(a, b) if b <= 0 then return 'standard deviation must be strictly positive, got ' .. b end end,
   exponential = function(l) if l <= 0 then return 'lambda must be strictly positive, got ' .. l end end,
   geometric = function(p) if not (p > 0 and p < 1) then return 'p must be in (0, 1), got ' .. tostring(p) end end,
   bernoulli = function(p) if not (p >= 0 and p <= 1) then return 'p must be in [0, 1], got ' .. tostring(p) end end,
}

local function params(name, a, b)
   local d = defaults[name]
   if a == nil then a = d[1] end
   if b == nil then b = d[2] end
   if type(a) ~= 'number' or (#d >= 2 and type(b) ~= 'number') then
      U.badArgs(name, 'numbers for the parameters', a, b)
   end
   if checks[name] then
      local msg = checks[name](a, b)
      if msg then U.error(name, msg) end
   end
   return a, b
end

-- fill a tensor elementwise with f(state, a, b)
local function fillWith(t, s, f, a, b)
   U.checkWritable('random', t)
   U.checkView(t)
   local p = t._storage._data
   U.each(U.sizes(t), function(o) p[o] = f(s, a, b) end, t._stride, t._offset)
   return t
end

-- contiguous fast path for the common fillers
local function fillFast(name, t, s, a, b)
   local stmt = ({ uniform = '!R = mt_unif(S2) * (S4 - S3) + S3',
                   normal = '!R = mt_normal(S2) * S4 + S3' })[name]
   if stmt then
      U.checkWritable(name, t)
      U.apply(U.kernel(stmt, t), t, nil, nil, nil, nil, s, a, b)
      return t
   end
   return fillWith(t, s, sampler[name], a, b)
end

for name, f in pairs(sampler) do
   -- t:name([gen,] params): fill in place
   local function method(self, ...)
      if not isT(self) then U.badArgs(name, 'tensor:' .. name .. '([gen,] ...)', self, ...) end
      local s, _, a, b = genArgs(...)
      if name == 'bernoulli' and isT(a) then
         local pp = U.conform('bernoulli', self, a)
         U.apply(U.kernel('if mt_unif(S2) <= @X then !R = 1 else !R = 0 end', self, pp), self, pp, nil, nil, nil, s)
         return self
      end
      a, b = params(name, a, b)
      return fillFast(name, self, s, a, b)
   end
   for _, rec in ipairs(U.recs) do rec.Tensor[name] = method end
   -- torch.name([gen,] params) -> number; torch.name(tensor, ...) -> fills it
   torch[name] = function(...)
      local first = ...
      if isT(first) then return method(...) end
      local s, _, a, b = genArgs(...)
      a, b = params(name, a, b)
      return f(s, a, b)
   end
end

-- random([gen,] [a [, b]]): integers; a..b inclusive, 1..a, or the type's range
local typeMax = { Byte = 2 ^ 8, Char = 2 ^ 7, Short = 2 ^ 15, Int = 2 ^ 31, Long = 2 ^ 53, Float = 2 ^ 24 + 1, Double = 2 ^ 53 + 1 }
local function randInt(s, a, b, limit)
   if a == nil then
      local r = u32(s)
      if limit and limit > TWO32 then r = r * TWO32 + u32(s) end
      if limit then r = r % limit end
      return r
   end
   if b == nil then
      if a < 1 then U.error('random', 'upper bound must be strictly positive, got ' .. a) end
      return u32(s) % a + 1
   end
   if b < a then U.error('random', 'upper bound must be larger than lower bound, got ' .. a .. ' and ' .. b) end
   local span = b + 1 - a
   local r = u32(s)
   if span > TWO32 then r = r * TWO32 + u32(s) end
   return r % span + a
end

local function randomMethod(self, ...)
   if not isT(self) then U.badArgs('random', 'tensor:random([gen,] [a [, b]])', self, ...) end
   local s, _, a, b = genArgs(...)
   if (a ~= nil and type(a) ~= 'number') or (b ~= nil and type(b) ~= 'number') then
      U.badArgs('random', 'tensor:random([gen,] [a [, b]])', self, ...)
   end
   local limit = typeMax[recOf(self).name]
   U.checkView(self)
   local p = self._storage._data
   U.checkWritable('random', self)
   if a ~= nil and b == nil and a < 1 then U.error('random', 'upper bound must be strictly positive, got ' .. a) end
   if b ~= nil and b < a then U.error('random', 'upper bound must be larger than lower bound, got ' .. a .. ' and ' .. b) end
   U.each(U.sizes(self), function(o) p[o] = randInt(s, a, b, limit) end, self._stride, self._offset)
   return self
end
for _, rec in ipairs(U.recs) do rec.Tensor.random = randomMethod end
torch.random = function(...)
   if isT((...)) then return randomMethod(...) end
   local s, _, a, b = genArgs(...)
   if (a ~= nil and type(a) ~= 'number') or (b ~= nil and type(b) ~= 'number') then
      U.badArgs('random', 'torch.random([gen,] [a [, b]])', ...)
   end
   return randInt(s, a, b)
end

---------------------------------------------------------------- rand, randn, randperm
-- sizes from numbers, a LongStorage or a table
local function sizeArgs(name, ...)
   local n = select('#', ...)
   local a = ...
   local sizes = {}
   if n == 1 and (type(a) == 'table' or torch.isStorage(a)) and not isT(a) then
      if a._data and a._size then
         for i = 1, a._size do sizes[i] = tonumber(a._data[i - 1]) end
      else
         for i = 1, #a do sizes[i] = a[i] end
      end
   else
      for i = 1, n do
         local v = torch._truncateSize((select(i, ...)))
         if v == nil then
            U.badArgs(name, 'sizes as non-negative integers or a LongStorage', ...)
         end
         sizes[i] = v
      end
   end
   return sizes
end
torch._sizeArgs = sizeArgs

-- [res,] [gen,] sizes...
local function randCtor(name, fill)
   local function make(rec, res, ...)
      local s, _ = genArgs(...)
      local rest = { ... }
      local first = 1
      if isGen(rest[1]) then first = 2 end
      local sizes = sizeArgs(name, unpack(rest, first, select('#', ...)))
      res = res or U.newEmpty(rec)
      U.resize(res, sizes)
      return fillFast(fill, res, s, 0, 1)
   end
   U.install(name, function(self, ...) return make(recOf(self), self, ...) end,
      function(rec, a, ...)
         if isT(a) then return make(recOf(a), a, ...) end
         return make(rec, nil, a, ...)
      end)
end
randCtor('rand', 'uniform')
randCtor('randn', 'normal')

local function randperm(rec, res, ...)
   local s, _, n = genArgs(...)
   if type(n) ~= 'number' or n < 1 or n ~= floor(n) then
      U.badArgs('randperm', 'torch.randperm([res,] [gen,] n) with n a positive integer', res, ...)
   end
   local perm = {}
   for i = 1, n do perm[i] = i end
   for i = 1, n - 1 do
      local z = u32(s) % (n - i + 1)
      perm[i], perm[i + z] = perm[i + z], perm[i]
   end
   res = res or U.newEmpty(rec)
   U.resize(res, { n })
   local p, o, st = res._storage._data, res._offset, res._stride[1]
   for i = 1, n do p[o + (i - 1) * st] = perm[i] end
   return res
end
U.install('randperm', function(self, ...) return randperm(recOf(self), self, ...) end,
   function(rec, a, ...)
      if isT(a) then return randperm(recOf(a), a, ...) end
      return randperm(rec, nil, a, ...)
   end)

---------------------------------------------------------------- multinomial
-- As THTensor_(multinomial): each row's cumulative distribution (summed in double, divided
-- by the sum, its last bucket set to 1), one uniform draw per sample and a binary search
-- for the first bucket >= the draw; without replacement the drawn bucket's mass is taken
-- out of the cumulative distribution, which is renormalised.
local longRec, doubleRec = U.byName.Long, U.byName.Double
local doubles = ffi.typeof('double[?]')
local function multinomial(res, ...)
   local s, _, prob, n, replace = genArgs(...)
   if not isT(prob) or (prob._dim ~= 1 and prob._dim ~= 2) or type(n) ~= 'number' then
      U.badArgs('multinomial', 'torch.multinomial([res,] [gen,] prob (1D or 2D), n [, replacement])', res, ...)
   end
   local rows = prob._dim == 2 and prob._size[1] or 1
   local k = prob._size[prob._dim]
   if not replace and n > k then
      U.error('multinomial', 'cannot sample ' .. n .. ' > ' .. k .. ' categories without replacement')
   end
   if n < 1 or n ~= floor(n) then U.error('multinomial', 'the number of samples must be a positive integer, got ' .. n) end
   res = res or U.newEmpty(longRec)
   if recOf(res) ~= longRec then U.error('multinomial', 'result must be a torch.LongTensor, got ' .. U.what(res)) end
   U.checkWritable('multinomial', res)
   U.resize(res, prob._dim == 2 and { rows, n } or { n })
   local pp, pst = prob._storage._data, prob._stride
   local prow, pcol = prob._dim == 2 and pst[1] or 0, pst[prob._dim]
   local po, ro = res._storage._data, res._offset
   local rrow, rcol = prob._dim == 2 and res._stride[1] or 0, res._stride[res._dim]
   local cumT = U.new(doubleRec, { k })
   local cum = cumT._storage._data
   -- many draws with replacement: the binary searches in numpy (np.searchsorted finds
   -- the same first bucket >= u)
   local np = replace and rawget(torch, '_np')
   if np and not (n >= np.thresholds.multinomial.draws and k >= np.thresholds.multinomial.categories) then
      np = nil
   end
   local uT = np and U.new(doubleRec, { n })
   for r = 0, rows - 1 do
      local base = prob._offset + r * prow
      local sum = 0
      for j = 0, k - 1 do
         local v = tonumber(pp[base + j * pcol])
         if not (v >= 0) then U.error('multinomial', 'probabilities must be non-negative, got ' .. tostring(v)) end
         sum = sum + v
         cum[j] = sum
      end
      if not (sum > 0) then U.error('multinomial', 'the probabilities of row ' .. (r + 1) .. ' sum to zero') end
      for j = 0, k - 1 do cum[j] = cum[j] / sum end
      local out = ro + r * rrow
      if np then
         cum[k - 1] = 1
         local ud = uT._storage._data
         for i = 0, n - 1 do ud[i] = unif(s) end
         np.call('bucket_search', U.view(res, out, { n }, { rcol }), cumT, uT)
      end
      for i = 0, np and -1 or n - 1 do
         local u = unif(s)
         cum[k - 1] = 1
         local lo, hi = 0, k
         while hi > lo do
            local mid = lo + floor((hi - lo) / 2)
            if cum[mid] < u then lo = mid + 1 else hi = mid end
         end
         po[out + i * rcol] = lo + 1
         if not replace then
            local diff = cum[lo] - (lo > 0 and cum[lo - 1] or 0)
            local rest = 1 - diff
            if not (rest > 0) and i < n - 1 then
               U.error('multinomial', 'row ' .. (r + 1) .. ' has fewer than ' .. n ..
                  ' categories of non-zero probability to sample without replacement')
            end
            for j = 0, k - 1 do
               local v = cum[j]
               if j >= lo then v = v - diff end
               cum[j] = v / rest
            end
         end
      end
   end
   return res
end
U.install('multinomial', function(self, a, ...)
      -- res:multinomial([gen,] p, n [, replacement]) or p:multinomial(n [, replacement])
      if isT(a) or isGen(a) then return multinomial(self, a, ...) end
      return multinomial(nil, self, a, ...)
   end,
   function(rec, a, ...)
      if isT(a) and recOf(a) == longRec and (isT((...)) or isGen((...))) then return multinomial(a, ...) end
      return multinomial(nil, a, ...)
   end)

-- Alias method (THTensor_(multinomialAliasSetup) and multinomialAliasDraw):
-- multinomialAliasSetup(probs [, state]) -> {J, q}; multinomialAlias(out, state [, gen]).
-- probs are taken as they are (q = K * p: they should sum to 1); q is divided by its
-- maximum when that exceeds 1, and a bucket left without an alias gets q = 1 and J = 1, as
-- in Torch7. (Torch7 marks "no alias" with 0, which is also the 0-based index of class 1,
-- so it drops every alias to class 1 as well; here only buckets without one are marked.)
function torch.multinomialAliasSetup(probs, state)
   if not isT(probs) or probs._dim ~= 1 then
      U.badArgs('multinomialAliasSetup', 'a 1D tensor of probabilities', probs, state)
   end
   local rec = recOf(probs)
   local k = probs._size[1]
   state = type(state) == 'table' and state or {}
   local J = isT(state[1]) and state[1] or U.newEmpty(longRec)
   local q = isT(state[2]) and state[2] or U.newEmpty(rec)
   U.checkWritable('multinomialAliasSetup', J)
   U.checkWritable('multinomialAliasSetup', q)
   local qq = ffi.new(rec.ctype .. '[?]', k)   -- q in its own precision, as Torch7 keeps it
   local jj = ffi.new('int64_t[?]', k)         -- 0-based aliases, -1 for none
   for i = 0, k - 1 do jj[i] = -1 end
   local small, large = ffi.new('int64_t[?]', k), ffi.new('int64_t[?]', k)
   local ns, nl = 0, 0
   local pd, po, pst = probs._storage._data, probs._offset, probs._stride[1]
   for i = 0, k - 1 do
      qq[i] = k * pd[po + i * pst]
      if qq[i] < 1 then
         small[ns] = i; ns = ns + 1
      else
         large[nl] = i; nl = nl + 1
      end
   end
   while ns > 0 and nl > 0 do
      local lg, sm = large[nl - 1], small[ns - 1]
      jj[sm] = lg
      qq[lg] = qq[lg] - (1 - qq[sm])
      if qq[lg] < 1 then
         small[ns - 1] = lg; nl = nl - 1
      else
         ns = ns - 1
      end
   end
   local qmin, qmax = qq[k - 1], qq[k - 1]
   for i = 0, k - 1 do
      local v = qq[i]
      if v < qmin then qmin = v elseif v > qmax then qmax = v end
   end
   if not (qmin > 0) then U.error('multinomialAliasSetup', 'q_min is less than 0 (are the probabilities normalised?)') end
   if qmax > 1 then
      for i = 0, k - 1 do qq[i] = qq[i] / qmax end
   end
   for i = 0, k - 1 do
      if jj[i] < 0 then qq[i] = 1; jj[i] = 0 end
   end
   U.resize(J, { k }); U.resize(q, { k })
   local Jd, Jo, Js = J._storage._data, J._offset, J._stride[1]
   local qd, qo, qs = q._storage._data, q._offset, q._stride[1]
   for i = 0, k - 1 do
      Jd[Jo + i * Js] = jj[i] + 1
      qd[qo + i * qs] = qq[i]
   end
   state[1], state[2] = J, q
   return state
end

function torch.multinomialAlias(out, state, gen)
   if not isT(out) or recOf(out) ~= longRec or type(state) ~= 'table' or not isT(state[1]) or not isT(state[2]) then
      U.badArgs('multinomialAlias', 'torch.multinomialAlias(output LongTensor, state from multinomialAliasSetup)', out, state)
   end
   local s = isGen(gen) and stateOf(gen) or stateOf(default)
   local J, q = state[1], state[2]
   local k = J._size[1]
   local jj, qq = ffi.new('int64_t[?]', k), doubles(k)
   for i = 1, k do jj[i - 1] = J[i]; qq[i - 1] = q[i] end
   U.checkWritable('multinomialAlias', out)
   -- a bucket uniformly, then its own index with probability q, its alias otherwise
   -- S1: number of classes, S2: generator, S3/S4: the tables (0-based)
   U.apply(U.kernel('local i = floor(mt_unif(S2) * S1); if mt_unif(S2) <= S3[i] then !R = i + 1 else !R = S4[i] end', out),
      out, nil, nil, nil, k, s, qq, jj)
   return out
end

return { u32 = u32, unif = unif, normal = normal, stateOf = stateOf, genArgs = genArgs, isGen = isGen }
