-- Pointwise TensorMath: arithmetic, math functions, comparisons, in Torch7's two call forms.
local U = require 'torch.math_util'
local torch = _G.torch

local recOf, isT = U.recOf, U.isTensor
local P = {}

-- res := stmt(src, y, z) elementwise; res nil -> new tensor of res type `rrec` (or src's)
-- statement templates that numpy runs faster on big floating tensors
local npOp = {
   ['!R = @X + S1'] = 'add', ['!R = @X - S1'] = 'csub', ['!R = @X * S1'] = 'mul',
   ['!R = @X / S1'] = 'div', ['!R = @X + S1 * @Y'] = 'cadd', ['!R = @X - S1 * @Y'] = 'ccsub',
   ['!R = @X * @Y'] = 'cmul', ['!R = @X / @Y'] = 'cdiv', ['!R = pow(@X, S1)'] = 'pow',
}
P.npOp = npOp
-- ops whose numpy version may write any result type (comparisons into ByteTensors)
local npAnyResult = { lt = true, le = true, gt = true, ge = true, eq = true, ne = true }

local function run(name, stmt, res, src, y, z, S1, S2, S3, rrec)
   if type(stmt) == 'function' then stmt = stmt(recOf(src)) end
   if res == nil then
      res = U.new(rrec or recOf(src), U.sizes(src))
   elseif res ~= src then
      U.resize(res, U.sizes(src))
   end
   U.checkWritable(name, res)
   if y then y = U.conform(name, res, y) end
   if z then z = U.conform(name, res, z) end
   local op = npOp[stmt]
   if op and z == nil then
      local bridge = rawget(torch, '_np')
      local rec = recOf(src)
      if bridge and not rec.integral and (y == nil or recOf(y) == rec)
         and (recOf(res) == rec or npAnyResult[op])
         and U.nElement(res) >= (bridge.thresholds.pointwise[op] or bridge.thresholds.pointwise.default) then
         bridge.call('pointwise', op, res, src, y, S1, S2)
         return res
      end
   end
   local k = U.kernel(stmt, res, src, y, z)
   U.apply(k, res, src, y, z, S1, S2, S3)
   return res
end
P.run = run

---------------------------------------------------------------- unary: f(x)
local unary = {
   abs = { '!R = abs(@X)', math.abs },
   sign = { 'local x = @X; !R = (x > 0 and 1) or (x < 0 and -1) or 0',
            function(x) return (x > 0 and 1) or (x < 0 and -1) or 0 end },
   neg = { '!R = -@X', function(x) return -x end },
   exp = { '!R = exp(@X)', math.exp },
   log = { '!R = log(@X)', math.log },
   log1p = { '!R = log1p(@X)', U.H.log1p },
   sqrt = { '!R = sqrt(@X)', math.sqrt },
   rsqrt = { '!R = 1 / sqrt(@X)', function(x) return 1 / math.sqrt(x) end },
   sigmoid = { '!R = 1 / (1 + exp(-@X))', function(x) return 1 / (1 + math.exp(-x)) end },
   tanh = { '!R = tanh(@X)', math.tanh },
   sin = { '!R = sin(@X)', math.sin }, cos = { '!R = cos(@X)', math.cos },
   tan = { '!R = tan(@X)', math.tan }, asin = { '!R = asin(@X)', math.asin },
   acos = { '!R = acos(@X)', math.acos }, atan = { '!R = atan(@X)', math.atan },
   sinh = { '!R = sinh(@X)', math.sinh }, cosh = { '!R = cosh(@X)', math.cosh },
   floor = { '!R = floor(@X)', math.floor }, ceil = { '!R = ceil(@X)', math.ceil },
   round = { 'local x = @X; if x >= 0 then !R = floor(x + 0.5) else !R = -floor(0.5 - x) end',
             function(x) if x >= 0 then return math.floor(x + 0.5) end return -math.floor(0.5 - x) end },
   trunc = { 'local x = @X; if x >= 0 then !R = floor(x) else !R = ceil(x) end',
             function(x) if x >= 0 then return math.floor(x) end return math.ceil(x) end },
   frac = { 'local x = @X; if x >= 0 then !R = x - floor(x) else !R = x - ceil(x) end',
            function(x) return math.fmod(x, 1) end },
   cinv = { '!R = 1 / @X', function(x) return 1 / x end },
}

for name, def in pairs(unary) do
   local stmt, numfn = def[1], def[2]
   if name ~= 'exp' then npOp[stmt] = name end  -- LuaJIT is as fast there
   local function method(self, src)
      if not isT(self) then U.badArgs(name, '[res:]' .. name .. '([src])', self, src) end
      if src == nil then src = self
      elseif not isT(src) then U.badArgs(name, 'res:' .. name .. '([src tensor])', self, src) end
      return run(name, stmt, self, src)
   end
   local function func(rec, a, b)
      if type(a) == 'number' and b == nil then return numfn(a) end
      if isT(a) and b == nil then return run(name, stmt, nil, a) end
      if isT(a) and isT(b) then return run(name, stmt, a, b) end
      U.badArgs(name, 'torch.' .. name .. '([res,] tensor) or torch.' .. name .. '(number)', a, b)
   end
   U.install(name, method, func)
end

---------------------------------------------------------------- tensor op number
-- method: t:f(v) in place, r:f(src, v); func: torch.f(src, v), torch.f(res, src, v)
local function defScalar(name, stmt, numfn)
   local function method(self, a, b)
      if isT(self) and type(a) == 'number' and b == nil then
         return run(name, stmt, self, self, nil, nil, U.real(recOf(self), a))
      elseif isT(self) and isT(a) and type(b) == 'number' then
         return run(name, stmt, self, a, nil, nil, U.real(recOf(a), b))
      end
      U.badArgs(name, '[res:]' .. name .. '([src,] number)', self, a, b)
   end
   local function func(rec, a, b, c)
      if isT(a) and type(b) == 'number' and c == nil then
         return run(name, stmt, nil, a, nil, nil, U.real(recOf(a), b))
      elseif isT(a) and isT(b) and type(c) == 'number' then
         return run(name, stmt, a, b, nil, nil, U.real(recOf(b), c))
      elseif numfn and type(a) == 'number' and type(b) == 'number' and c == nil then
         return numfn(a, b)
      end
      U.badArgs(name, 'torch.' .. name .. '([res,] tensor, number)', a, b, c)
   end
   return method, func
end

-- tensor op tensor
-- method: t:f(y) in place, r:f(x, y); func: torch.f(x, y), torch.f(res, x, y)
local function defTensor(name, stmt, numfn)
   local function method(self, a, b)
      if isT(self) and isT(a) and b == nil then
         return run(name, stmt, self, self, a)
      elseif isT(self) and isT(a) and isT(b) then
         return run(name, stmt, self, a, b)
      end
      U.badArgs(name, '[res:]' .. name .. '([tensor1,] tensor2)', self, a, b)
   end
   local function func(rec, a, b, c)
      if isT(a) and isT(b) and c == nil then
         return run(name, stmt, nil, a, b)
      elseif isT(a) and isT(b) and isT(c) then
         return run(name, stmt, a, b, c)
      elseif numfn and type(a) == 'number' and type(b) == 'number' and c == nil then
         return numfn(a, b)
      end
      U.badArgs(name, 'torch.' .. name .. '([res,] tensor1, tensor2)', a, b, c)
   end
   return method, func
end

local function either(name, sstmt, tstmt, numfn)
   local sm, sf = defScalar(name, sstmt, numfn)
   local tm, tf = defTensor(name, tstmt, numfn)
   local function method(self, a, b)
      local last = (b ~= nil) and b or a
      if type(last) == 'number' then return sm(self, a, b) end
      return tm(self, a, b)
   end
   local function func(rec, a, b, c)
      local last = (c ~= nil) and c or b
      if type(last) == 'number' and isT(a) then return sf(rec, a, b, c) end
      return tf(rec, a, b, c)
   end
   U.install(name, method, func)
end

local function fmod(a, b) return math.fmod(a, b) end
local function rem(a, b) return a % b end

do
   local m, f = defScalar('mul', '!R = @X * S1', function(a, b) return a * b end); U.install('mul', m, f)
   m, f = defScalar('div', '!R = @X / S1', function(a, b) return a / b end); U.install('div', m, f)
   m, f = defScalar('fmod', '!R = fmod(@X, S1)', fmod); U.install('fmod', m, f)
   m, f = defScalar('remainder', '!R = @X % S1', rem); U.install('remainder', m, f)
   m, f = defScalar('lshift', '!R = @X * pow(2, S1)'); U.install('lshift', m, f)
   m, f = defScalar('rshift', function(rec)
      return rec.integral and '!R = floor(@X / pow(2, S1))' or '!R = @X / pow(2, S1)'
   end)
   U.install('rshift', m, f)
   for _, op in ipairs({ { 'bitand', 'band' }, { 'bitor', 'bor' }, { 'bitxor', 'bxor' } }) do
      m, f = defScalar(op[1], '!R = ' .. op[2] .. '(@X, S1)'); U.install(op[1], m, f)
   end
   m, f = defTensor('cmul', '!R = @X * @Y'); U.install('cmul', m, f)
   m, f = defTensor('cdiv', '!R = @X / @Y'); U.install('cdiv', m, f)
   m, f = defTensor('cpow', '!R = pow(@X, @Y)'); U.install('cpow', m, f)
   m, f = defTensor('cfmod', '!R = fmod(@X, @Y)'); U.install('cfmod', m, f)
   m, f = defTensor('cremainder', '!R = @X % @Y'); U.install('cremainder', m, f)
   m, f = defTensor('atan2', '!R = atan2(@X, @Y)', math.atan2); U.install('atan2', m, f)
   m, f = defTensor('clshift', '!R = @X * pow(2, @Y)'); U.install('clshift', m, f)
   m, f = defTensor('crshift', '!R = floor(@X / pow(2, @Y))'); U.install('crshift', m, f)
   for _, op in ipairs({ { 'cbitand', 'band' }, { 'cbitor', 'bor' }, { 'cbitxor', 'bxor' } }) do
      m, f = defTensor(op[1], '!R = ' .. op[2] .. '(@X, @Y)'); U.install(op[1], m, f)
   end
   local cmaxS, cmaxT = 'local x = @X; if x > S1 then !R = x else !R = S1 end', 'local x, y = @X, @Y; if x > y then !R = x else !R = y end'
   local cminS, cminT = 'local x = @X; if x < S1 then !R = x else !R = S1 end', 'local x, y = @X, @Y; if x < y then !R = x else !R = y end'
   npOp[cmaxS], npOp[cmaxT], npOp[cminS], npOp[cminT] = 'cmax', 'cmax', 'cmin', 'cmin'
   either('cmax', cmaxS, cmaxT, math.max)
   either('cmin', cminS, cminT, math.min)
end

---------------------------------------------------------------- add / csub
-- add: t:add(v), t:add(y), t:add(v, y), r:add(x, v), r:add(x, y), r:add(x, v, y)
local function defAdd(name, sgn)
   local sstmt = sgn > 0 and '!R = @X + S1' or '!R = @X - S1'
   local tstmt = sgn > 0 and '!R = @X + S1 * @Y' or '!R = @X - S1 * @Y'
   local usage = '[res:]' .. name .. '([tensor1,] [value,] tensor2 | number)'
   local function core(res, a, b, c)
      -- a, b, c: the arguments after res (src defaults to res)
      if type(a) == 'number' and b == nil then
         return run(name, sstmt, res, res, nil, nil, U.real(recOf(res), a))
      elseif isT(a) and b == nil then
         return run(name, tstmt, res, res, a, nil, 1)
      elseif type(a) == 'number' and isT(b) and c == nil then
         return run(name, tstmt, res, res, b, nil, U.real(recOf(res), a))
      elseif isT(a) and type(b) == 'number' and c == nil then
         return run(name, sstmt, res, a, nil, nil, U.real(recOf(a), b))
      elseif isT(a) and isT(b) and c == nil then
         return run(name, tstmt, res, a, b, nil, 1)
      elseif isT(a) and type(b) == 'number' and isT(c) then
         return run(name, tstmt, res, a, c, nil, U.real(recOf(a), b))
      end
      return nil
   end
   local function method(self, a, b, c)
      if isT(self) then
         local r = core(self, a, b, c)
         if r then return r end
      end
      U.badArgs(name, usage, self, a, b, c)
   end
   local function func(rec, a, b, c, d)
      if isT(a) and type(b) == 'number' and c == nil then
         return run(name, sstmt, nil, a, nil, nil, U.real(recOf(a), b))
      elseif isT(a) and isT(b) and c == nil then
         return run(name, tstmt, nil, a, b, nil, 1)
      elseif isT(a) and type(b) == 'number' and isT(c) and d == nil then
         return run(name, tstmt, nil, a, c, nil, U.real(recOf(a), b))
      elseif isT(a) and isT(b) and (c ~= nil) then
         local r = core(a, b, c, d)
         if r then return r end
      end
      U.badArgs(name, 'torch.' .. name .. '([res,] tensor1, [value,] tensor2 | number)', a, b, c, d)
   end
   U.install(name, method, func)
end
defAdd('add', 1)
defAdd('csub', -1)

---------------------------------------------------------------- pow
do
   local name = 'pow'
   local ts, st = '!R = pow(@X, S1)', '!R = pow(S1, @X)'
   local function method(self, a, b)
      if isT(self) and type(a) == 'number' and b == nil then
         return run(name, ts, self, self, nil, nil, a)
      elseif isT(self) and isT(a) and type(b) == 'number' then
         return run(name, ts, self, a, nil, nil, b)
      elseif isT(self) and type(a) == 'number' and isT(b) then
         return run(name, st, self, b, nil, nil, a)
      end
      U.badArgs(name, '[res:]pow([tensor,] number) or res:pow(number, tensor)', self, a, b)
   end
   local function func(rec, a, b, c)
      if type(a) == 'number' and type(b) == 'number' and c == nil then return math.pow(a, b) end
      if isT(a) and type(b) == 'number' and c == nil then return run(name, ts, nil, a, nil, nil, b) end
      if type(a) == 'number' and isT(b) and c == nil then return run(name, st, nil, b, nil, nil, a) end
      if isT(a) and isT(b) and type(c) == 'number' then return run(name, ts, a, b, nil, nil, c) end
      if isT(a) and type(b) == 'number' and isT(c) then return run(name, st, a, c, nil, nil, b) end
      U.badArgs(name, 'torch.pow([res,] tensor, number) or torch.pow([res,] number, tensor)', a, b, c)
   end
   U.install(name, method, func)
end

---------------------------------------------------------------- clamp, lerp
do
   local stmt = 'local x = @X; if x < S1 then !R = S1 elseif x > S2 then !R = S2 else !R = x end'
   npOp[stmt] = 'clamp'
   local function method(self, a, b, c)
      if isT(self) and type(a) == 'number' and type(b) == 'number' and c == nil then
         local rec = recOf(self)
         return run('clamp', stmt, self, self, nil, nil, U.real(rec, a), U.real(rec, b))
      elseif isT(self) and isT(a) and type(b) == 'number' and type(c) == 'number' then
         local rec = recOf(a)
         return run('clamp', stmt, self, a, nil, nil, U.real(rec, b), U.real(rec, c))
      end
      U.badArgs('clamp', '[res:]clamp([src,] min, max)', self, a, b, c)
   end
   local function func(rec, a, b, c, d)
      if isT(a) and type(b) == 'number' and type(c) == 'number' and d == nil then
         return run('clamp', stmt, nil, a, nil, nil, U.real(recOf(a), b), U.real(recOf(a), c))
      elseif isT(a) and isT(b) and type(c) == 'number' and type(d) == 'number' then
         return run('clamp', stmt, a, b, nil, nil, U.real(recOf(b), c), U.real(recOf(b), d))
      end
      U.badArgs('clamp', 'torch.clamp([res,] tensor, min, max)', a, b, c, d)
   end
   U.install('clamp', method, func)

   local ls = '!R = @X + S1 * (@Y - @X)'
   local function lmethod(self, a, b, c)
      if isT(self) and isT(a) and type(b) == 'number' and c == nil then
         return run('lerp', ls, self, self, a, nil, b)
      elseif isT(self) and isT(a) and isT(b) and type(c) == 'number' then
         return run('lerp', ls, self, a, b, nil, c)
      end
      U.badArgs('lerp', '[res:]lerp([a,] b, weight)', self, a, b, c)
   end
   local function lfunc(rec, a, b, c, d)
      if type(a) == 'number' and type(b) == 'number' and type(c) == 'number' then
         return a + c * (b - a)
      elseif isT(a) and isT(b) and type(c) == 'number' and d == nil then
         return run('lerp', ls, nil, a, b, nil, c)
      elseif isT(a) and isT(b) and isT(c) and type(d) == 'number' then
         return run('lerp', ls, a, b, c, nil, d)
      end
      U.badArgs('lerp', 'torch.lerp([res,] a, b, weight)', a, b, c, d)
   end
   U.install('lerp', lmethod, lfunc)
end

---------------------------------------------------------------- addcmul, addcdiv
for name, op in pairs({ addcmul = '*', addcdiv = '/' }) do
   local stmt = '!R = @X + S1 * @Y ' .. op .. ' @Z'
   -- args after res: [src,] [value,] t1, t2
   local function core(res, a, b, c, d)
      if isT(a) and isT(b) and c == nil then return run(name, stmt, res, res, a, b, 1) end
      if type(a) == 'number' and isT(b) and isT(c) and d == nil then return run(name, stmt, res, res, b, c, a) end
      if isT(a) and isT(b) and isT(c) and d == nil then return run(name, stmt, res, a, b, c, 1) end
      if isT(a) and type(b) == 'number' and isT(c) and isT(d) then return run(name, stmt, res, a, c, d, b) end
   end
   local function method(self, a, b, c, d)
      if isT(self) then
         local r = core(self, a, b, c, d)
         if r then return r end
      end
      U.badArgs(name, '[res:]' .. name .. '([src,] [value,] tensor1, tensor2)', self, a, b, c, d)
   end
   local function func(rec, a, b, c, d, e)
      if isT(a) and isT(b) and isT(c) and d == nil then return run(name, stmt, nil, a, b, c, 1) end
      if isT(a) and type(b) == 'number' and isT(c) and isT(d) and e == nil then
         return run(name, stmt, nil, a, c, d, b)
      end
      if isT(a) then
         local r = core(a, b, c, d, e)
         if r then return r end
      end
      U.badArgs(name, 'torch.' .. name .. '([res,] src, [value,] tensor1, tensor2)', a, b, c, d, e)
   end
   U.install(name, method, func)
end

---------------------------------------------------------------- comparisons
local byte = U.byName.Byte
for name, op in pairs({ lt = '<', le = '<=', gt = '>', ge = '>=', eq = '==', ne = '~=' }) do
   local sstmt = 'if @X ' .. op .. ' S1 then !R = 1 else !R = 0 end'
   local tstmt = 'if @X ' .. op .. ' @Y then !R = 1 else !R = 0 end'
   npOp[sstmt], npOp[tstmt] = name, name
   local function compute(res, a, b)
      if type(b) == 'number' then return run(name, sstmt, res, a, nil, nil, U.real(recOf(a), b), nil, nil, byte) end
      if isT(b) then return run(name, tstmt, res, a, b, nil, nil, nil, nil, byte) end
   end
   local function method(self, a, b)
      if isT(self) and b == nil and (type(a) == 'number' or isT(a)) then
         return compute(nil, self, a)
      elseif isT(self) and isT(a) and (type(b) == 'number' or isT(b)) then
         return compute(self, a, b)
      end
      U.badArgs(name, '[res:]' .. name .. '([tensor,] tensor | number)', self, a, b)
   end
   local function func(rec, a, b, c)
      if isT(a) and c == nil and (type(b) == 'number' or isT(b)) then
         return compute(nil, a, b)
      elseif isT(a) and isT(b) and (type(c) == 'number' or isT(c)) then
         return compute(a, b, c)
      end
      U.badArgs(name, 'torch.' .. name .. '([res,] tensor, tensor | number)', a, b, c)
   end
   U.install(name, method, func)
end

return P
