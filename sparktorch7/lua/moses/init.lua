-- moses: Roland Yonaba's functional utility belt for Lua, version 1.6.1, the rock that
-- Torch7's distribution shipped (dpnn, rnn and torch/nn's tests `local _ = require 'moses'`).
-- Written from 1.6.1's documentation (doc/tutorial.md, the LDoc comments), its specs and the
-- behaviour of its source at the tag Moses-1.6.1-1.
--
-- 1.6.x's conventions, which 2.x changed:
--   * each, map, select, reject, all, countf, groupBy, countBy, selectWhile, findIndex, chunk...
--     call their function as f(key, value, ...); reduce's as f(state, value);
--   * _(v) and _.chain(v) wrap a value; every library function is then a method whose result
--     is wrapped again, until :value() unwraps it;
--   * the aliases (_.collect is _.map, _.forEach is _.each, ...) are there by default.
--
-- Where this file knowingly differs from 1.6.1:
--   * an argument of the wrong type is an error naming the function, the argument and what
--     came (`<moses.map> expects a function as argument #2 (f), got nil`); 1.6.1 checked
--     nothing and failed later, or not at all (mapping nil over an empty table);
--   * reject keeps the values whose test returns nil (1.6.1 dropped them with the passing
--     ones: its map leaves no entry for a nil), and chunk numbers its chunks from 1 (1.6.1
--     put the first one at index 0 when f's first result was truthy);
--   * partition's and sliding's n default to 1 and 2; smaller ones are errors (1.6.1
--     returned nil, so the for loop failed); zip() of no arrays is {};
--   * memoize calls f uncached when the hash is nil or NaN (1.6.1: "table index is nil");
--     clone of a table that contains itself is an error (1.6.1 overflowed the stack);
--     isEqual(a, b, true) with __eq on one side only calls that one (1.6.1 indexed nil);
--   * nil arguments survive bindn, partial, partialRight, once, before, flip and overArgs
--     (1.6.1 packed them in tables and lost them), and partial's '_' with no argument left
--     for it passes nil (1.6.1 passed the string '_');
--   * slice (and first, initial, last, rest) takes the values at the integer keys
--     1..#array in the range (1.6.1 filtered every key with pairs);
--   * _.value(v) of a value that is not chained, and a method a chained value does not have,
--     are errors (1.6.1: v._value, and "attempt to call a nil value").

local type, select, next, ipairs, tostring, error = type, select, next, ipairs, tostring, error
local getmetatable, setmetatable, rawget = getmetatable, setmetatable, rawget
local unpack = unpack or table.unpack
local floor, ceil, mmax, mmin, huge = math.floor, math.ceil, math.max, math.min, math.huge
local random, randomseed, clock = math.random, math.randomseed, os.clock
local tinsert, tremove, tsort, tconcat = table.insert, table.remove, table.sort, table.concat
local format = string.format
-- (pairs is looked up when called: requiring tds makes it honour __pairs, as Torch7's does)

-- The library: its functions and their aliases, the names _.functions() lists and _.import
-- copies. The module returned at the end wraps each one for chaining and argument checks.
local lib = {}

local function lt(a, b) return a < b end
local function gt(a, b) return a > b end

local function pack(...) return {n = select('#', ...), ...} end

-- the values of two packs, one after the other, as a pack
local function joined(a, b)
   local out = {n = a.n + b.n}
   for i = 1, a.n do out[i] = a[i] end
   for i = 1, b.n do out[a.n + i] = b[i] end
   return out
end

local function entries(t)
   local n = 0
   for _ in pairs(t) do n = n + 1 end
   return n
end

local function clamp(x, lo, hi)
   if x < lo then return lo end
   if x > hi then return hi end
   return x
end

-- what may be called: a function, or a value whose metatable has __call. cdata may have one
-- through its ctype, which getmetatable does not show, and a protected metatable (a Python
-- object's) hides it: those get the benefit of the doubt
local function callable(v)
   local t = type(v)
   if t == 'function' or t == 'cdata' then return true end
   local mt = getmetatable(v)
   if type(mt) == 'table' then return rawget(mt, '__call') ~= nil end
   return mt ~= nil
end

---------------------------------------------------------------------------- table functions

function lib.clear(t)
   for k in pairs(t) do t[k] = nil end
   return t
end

function lib.each(t, f, ...)
   for k, v in pairs(t) do f(k, v, ...) end
end

function lib.eachi(t, f, ...)
   local ints = {}
   for k in pairs(t) do
      if type(k) == 'number' and floor(k) == k then ints[#ints + 1] = k end
   end
   tsort(ints)
   for _, k in ipairs(ints) do f(k, t[k], ...) end
end

function lib.at(t, ...)
   local out = {}
   for _, key in ipairs({...}) do
      local v = t[key]
      if v ~= nil then out[#out + 1] = v end
   end
   return out
end

function lib.count(t, value)
   if value == nil then return entries(t) end
   local n = 0
   for _, v in pairs(t) do
      if lib.isEqual(v, value) then n = n + 1 end
   end
   return n
end

-- the results of f that are exactly true (counted through map, as 1.6.1)
function lib.countf(t, f, ...)
   return lib.count(lib.map(t, f, ...), true)
end

-- an iterator over t's pairs, going round n times (1 by default; none when n <= 0)
function lib.cycle(t, n)
   n = n or 1
   if n <= 0 then return lib.noop end
   local key, firstKey, laps = nil, nil, 0
   return function()
      local k = nil
      if key ~= nil then k = next(t, key) end
      if k == nil then k = next(t) end
      key = k
      if firstKey == nil then firstKey = k end
      if k == firstKey then laps = laps + 1 end
      if laps > n then return nil end
      return k, t[k]
   end
end

-- f(k, v, ...) gives the new value at k, or, when it gives two values and the first is
-- truthy, a new key and its value
function lib.map(t, f, ...)
   local out = {}
   for k, v in pairs(t) do
      local a, b = f(k, v, ...)
      if b then
         if a then out[a] = b else out[k] = b end
      else
         out[k] = a
      end
   end
   return out
end

-- (a nil state takes the next value, at the start or when f returned nil)
function lib.reduce(t, f, state)
   for _, v in pairs(t) do
      if state == nil then state = v else state = f(state, v) end
   end
   return state
end

function lib.reduceby(t, f, state, pred, ...)
   return lib.reduce(lib.select(t, pred, ...), f, state)
end

function lib.reduceRight(t, f, state)
   return lib.reduce(lib.reverse(t), f, state)
end

-- every state of the reduction, at the keys of the values that made it
function lib.mapReduce(t, f, state)
   local out = {}
   for k, v in pairs(t) do
      if not state and v then state = v else state = f(state, v) end
      out[k] = state
   end
   return out
end

function lib.mapReduceRight(t, f, state)
   return lib.mapReduce(lib.reverse(t), f, state)
end

-- a function value is a test called as value(v, value); anything else is compared with isEqual
local function matcher(value)
   if type(value) == 'function' then return value end
   return lib.isEqual
end

function lib.include(t, value)
   local test = matcher(value)
   for _, v in pairs(t) do
      if test(v, value) then return true end
   end
   return false
end

function lib.detect(t, value)
   local test = matcher(value)
   for k, v in pairs(t) do
      if test(v, value) then return k end
   end
end

local function hasAll(v, props)
   for key, want in pairs(props) do
      if v[key] ~= want then return false end
   end
   return true
end

-- (nil rather than an empty array when nothing matches)
function lib.where(t, props)
   local found = {}
   for _, v in pairs(t) do
      if hasAll(v, props) then found[#found + 1] = v end
   end
   if #found > 0 then return found end
end

function lib.findWhere(t, props)
   for _, v in pairs(t) do
      if hasAll(v, props) then return v end
   end
end

function lib.select(t, f, ...)
   local out = {}
   for k, v in pairs(t) do
      if f(k, v, ...) then out[#out + 1] = v end
   end
   return out
end

function lib.reject(t, f, ...)
   local out = {}
   for k, v in pairs(t) do
      if not f(k, v, ...) then out[#out + 1] = v end
   end
   return out
end

-- (f runs on every pair: there is no early exit, as in 1.6.1)
function lib.all(t, f, ...)
   local ok = true
   for k, v in pairs(t) do
      if not f(k, v, ...) then ok = false end
   end
   return ok
end

-- method(v, ...) for each value, or v[method] (called as a method when callable) for table
-- values that have it; collected with map
function lib.invoke(t, method, ...)
   local args = pack(...)
   return lib.map(t, function(_, v)
      if type(v) == 'table' and v[method] ~= nil then
         local m = v[method]
         if lib.isCallable(m) then return m(v, unpack(args, 1, args.n)) end
         return m
      end
      if lib.isCallable(method) then return method(v, unpack(args, 1, args.n)) end
   end)
end

-- the non-nil v[key] of the values, in the order pairs gives their keys
function lib.pluck(t, key)
   local found = {}
   for k, v in pairs(t) do found[k] = v[key] end
   local out = {}
   for _, v in pairs(found) do out[#out + 1] = v end
   return out
end

-- the transformed value that wins better(best, x) against all others (a tie goes to the later)
local function extreme(t, better, transform, ...)
   transform = transform or lib.identity
   local best
   for _, v in pairs(t) do
      local x = transform(v, ...)
      if not best or not better(best, x) then best = x end
   end
   return best
end

function lib.max(t, transform, ...) return extreme(t, gt, transform, ...) end

function lib.min(t, transform, ...) return extreme(t, lt, transform, ...) end

-- a shuffled copy: each value in pairs order goes to a random place among those so far, the
-- value there moving to its key (one math.random() per value)
function lib.shuffle(t, seed)
   if seed then randomseed(seed) end
   local out = {}
   for k, v in pairs(t) do
      local j = floor(random() * k) + 1
      out[k] = out[j]
      out[j] = v
   end
   return out
end

function lib.same(a, b)
   return lib.all(a, function(_, v) return lib.include(b, v) end)
      and lib.all(b, function(_, v) return lib.include(a, v) end)
end

function lib.sort(t, comp)
   tsort(t, comp)
   return t
end

-- a new array of t's values ordered by comp (default <) on transform(v); a string transform
-- is the key v[transform]
function lib.sortBy(t, transform, comp)
   local f = transform or lib.identity
   if type(transform) == 'string' then
      f = function(v) return v[transform] end
   end
   comp = comp or lt
   local ranked = {}
   for _, v in pairs(t) do ranked[#ranked + 1] = {value = v, rank = f(v)} end
   tsort(ranked, function(a, b) return comp(a.rank, b.rank) end)
   return lib.pluck(ranked, 'value')
end

function lib.groupBy(t, iter, ...)
   local groups = {}
   for k, v in pairs(t) do
      local g = iter(k, v, ...)
      local group = groups[g]
      if group then group[#group + 1] = v else groups[g] = {v} end
   end
   return groups
end

function lib.countBy(t, iter, ...)
   local counts = {}
   for k, v in pairs(t) do
      local g = iter(k, v, ...)
      counts[g] = (counts[g] or 0) + 1
   end
   return counts
end

-- the number of entries of a table given first, else the number of non-nil arguments
function lib.size(...)
   local first = ...
   if type(first) == 'table' then return entries(first) end
   return entries({...})
end

-- (a key whose value is false counts as missing, as in 1.6.1)
function lib.containsKeys(t, other)
   for key in pairs(other) do
      if not t[key] then return false end
   end
   return true
end

function lib.sameKeys(tA, tB)
   return lib.containsKeys(tB, tA) and lib.containsKeys(tA, tB)
end

---------------------------------------------------------------------------- array functions

-- one value when n is 1 (the default), an array of n from a shuffled copy otherwise,
-- nothing when n < 1
function lib.sample(array, n, seed)
   n = n or 1
   if n < 1 then return nil end
   if n == 1 then
      if #array == 0 then error('<moses.sample> cannot draw a value from an empty array', 2) end
      if seed then randomseed(seed) end
      return array[random(1, #array)]
   end
   return lib.slice(lib.shuffle(array, seed), 1, n)
end

-- each value kept when a math.random() falls below prob
function lib.sampleProb(array, prob, seed)
   if seed then randomseed(seed) end
   return lib.select(array, function() return random() < prob end)
end

function lib.toArray(...) return {...} end

function lib.find(array, value, from)
   for i = from or 1, #array do
      if lib.isEqual(array[i], value) then return i end
   end
end

-- (holes close up)
function lib.reverse(array)
   local out = {}
   for i = #array, 1, -1 do
      local v = array[i]
      if v ~= nil then out[#out + 1] = v end
   end
   return out
end

-- in place, from i (1) to j (the number of entries), growing the array when j is past its end
function lib.fill(array, value, i, j)
   for k = i or 1, j or entries(array) do array[k] = value end
   return array
end

function lib.selectWhile(array, f, ...)
   local out = {}
   for i, v in ipairs(array) do
      if not f(i, v, ...) then break end
      out[i] = v
   end
   return out
end

function lib.dropWhile(array, f, ...)
   for i, v in ipairs(array) do
      if not f(i, v, ...) then return lib.rest(array, i) end
   end
   return {}
end

-- the first index whose value does not come before value (comp, default <), after sorting
-- the array in place when sort is given
function lib.sortedIndex(array, value, comp, sort)
   comp = comp or lt
   if sort then tsort(array, comp) end
   for i = 1, #array do
      if not comp(array[i], value) then return i end
   end
   return #array + 1
end

-- (compared with ==, where find uses isEqual)
function lib.indexOf(array, value)
   for i = 1, #array do
      if array[i] == value then return i end
   end
end

function lib.lastIndexOf(array, value)
   local i = lib.indexOf(lib.reverse(array), value)
   if i then return #array - i + 1 end
end

function lib.findIndex(array, predicate, ...)
   for i = 1, #array do
      if predicate(i, array[i], ...) then return i end
   end
end

-- (the predicate sees the index counted from the end, as 1.6.1 searches the reversed array)
function lib.findLastIndex(array, predicate, ...)
   local i = lib.findIndex(lib.reverse(array), predicate, ...)
   if i then return #array - i + 1 end
end

function lib.addTop(array, ...)
   for i = 1, select('#', ...) do
      local v = select(i, ...)
      if v ~= nil then tinsert(array, 1, v) end
   end
   return array
end

function lib.push(array, ...)
   for i = 1, select('#', ...) do
      local v = select(i, ...)
      if v ~= nil then array[#array + 1] = v end
   end
   return array
end

-- takes n values (1) off the front, or off the end, and returns them in the order taken
local function takeOff(array, n, front)
   local out, count = {}, 0
   for _ = 1, mmin(n or 1, #array) do
      count = count + 1
      out[count] = tremove(array, front and 1 or nil)
   end
   return unpack(out, 1, count)
end

function lib.pop(array, n) return takeOff(array, n, true) end

function lib.unshift(array, n) return takeOff(array, n, false) end

function lib.pull(array, ...)
   for _, unwanted in ipairs({...}) do
      for i = #array, 1, -1 do
         if lib.isEqual(array[i], unwanted) then tremove(array, i) end
      end
   end
   return array
end

-- a (deep) copy without the values at start..finish, both clamped to the array's bounds
function lib.removeRange(array, start, finish)
   local out = lib.clone(array)
   local n = #out
   if n < 1 then return out end
   local first = next(out)
   start = clamp(start or first, first, n)
   finish = clamp(finish or n, first, n)
   local left = finish - start + 1
   while left > 0 do
      tremove(out, start)
      left = left - 1
   end
   return out
end

-- runs of consecutive values for which f(i, v, ...) gives the same result; anything that is
-- not an array comes back as it is
function lib.chunk(array, f, ...)
   if not lib.isArray(array) then return array end
   local chunks, current, last = {}, nil, nil
   for i, v in ipairs(array) do
      local key = f(i, v, ...)
      if current == nil or key ~= last then
         current = {}
         chunks[#chunks + 1] = current
      end
      current[#current + 1] = v
      last = key
   end
   return chunks
end

function lib.slice(array, start, finish)
   local out = {}
   for i = mmax(ceil(start or 1), 1), mmin(finish or #array, #array) do
      local v = array[i]
      if v ~= nil then out[#out + 1] = v end
   end
   return out
end

function lib.first(array, n)
   return lib.slice(array, 1, mmin(n or 1, #array))
end

function lib.initial(array, n)
   if n and n < 0 then return nil end
   return lib.slice(array, 1, n and #array - mmin(n, #array) or #array - 1)
end

function lib.last(array, n)
   if n and n <= 0 then return nil end
   return lib.slice(array, n and #array - mmin(n - 1, #array - 1) or 2, #array)
end

function lib.rest(array, index)
   if index and index > #array then return {} end
   return lib.slice(array, index and mmax(1, mmin(index, #array)) or 1, #array)
end

function lib.nth(array, index) return array[index] end

-- the truthy values, in pairs order
function lib.compact(array)
   return lib.select(array, function(_, v) return v end)
end

function lib.flatten(array, shallow)
   local out = {}
   for _, v in pairs(array) do
      if type(v) == 'table' then
         for _, inner in pairs(shallow and v or lib.flatten(v)) do out[#out + 1] = inner end
      else
         out[#out + 1] = v
      end
   end
   return out
end

function lib.difference(array, array2)
   if not array2 then return lib.clone(array) end
   return lib.select(array, function(_, v) return not lib.include(array2, v) end)
end

-- (nested arrays are flattened first)
function lib.union(...)
   return lib.unique(lib.flatten({...}))
end

function lib.intersection(array, ...)
   local others = {...}
   local out = {}
   for _, v in ipairs(array) do
      if lib.all(others, function(_, other) return lib.include(other, v) end) then
         out[#out + 1] = v
      end
   end
   return out
end

function lib.symmetricDifference(array, array2)
   return lib.difference(lib.union(array, array2), lib.intersection(array, array2))
end

function lib.unique(array)
   local out = {}
   for i = 1, #array do
      if not lib.find(out, array[i]) then out[#out + 1] = array[i] end
   end
   return out
end

function lib.isunique(array)
   return lib.isEqual(array, lib.unique(array))
end

-- out[i] holds the i-th value of each array that has one (as far as the longest goes)
function lib.zip(...)
   local arrays = {...}
   local longest = 0
   for _, a in pairs(arrays) do longest = mmax(longest, #a) end
   local out = {}
   for i = 1, longest do out[i] = lib.pluck(arrays, i) end
   return out
end

function lib.append(array, other)
   local out = {}
   for i, v in ipairs(array) do out[i] = v end
   for _, v in ipairs(other) do out[#out + 1] = v end
   return out
end

function lib.interleave(...)
   return lib.flatten(lib.zip(...))
end

function lib.interpose(value, array)
   return lib.flatten(lib.zip(array, lib.rep(value, #array - 1)))
end

-- range(stop) counts from 0; range(start, stop[, step]) by step (1). The values are
-- start + step * i for i = 0..floor((stop - start) / step), none when that is below 1
function lib.range(a, b, step)
   local start, stop
   if a == nil then return {} end
   if b == nil then start, stop = 0, a else start, stop = a, b end
   step = step or 1
   local out = {}
   if step == 0 then return out end
   local steps = floor((stop - start) / step)
   if steps < 1 then return out end
   for i = 0, steps do out[i + 1] = start + step * i end
   return out
end

function lib.rep(value, n)
   local out = {}
   for i = 1, n do out[i] = value end
   return out
end

-- an iterator over slices of n values taken every `step` from the first; a short slice is
-- padded with pad when pad is truthy; `keep(i, len)` says whether the slice at offset i counts
local function slicer(array, n, step, pad, keep)
   local len, offset = #array, 0
   return function()
      while offset <= len do
         local i = offset
         offset = offset + step
         local s = lib.slice(array, i + 1, i + n)
         if #s > 0 and keep(i, len) then
            if pad then
               while #s < n do s[#s + 1] = pad end
            end
            return s
         end
      end
   end
end

local function always() return true end
local function beforeLast(i, len) return i + 1 < len end

function lib.partition(array, n, pad)
   n = n or 1
   return slicer(array, n, n, pad, always)
end

-- windows of n that overlap by one value
function lib.sliding(array, n, pad)
   n = n or 2
   return slicer(array, n, n - 1, pad, beforeLast)
end

-- an iterator over the permutations of the array, made in place: each step yields the array
-- itself, rearranged, and the last step leaves it as it was
function lib.permutation(array)
   local function permute(k)
      if k == 0 then coroutine.yield(array) end
      for i = 1, k do
         array[k], array[i] = array[i], array[k]
         permute(k - 1)
         array[k], array[i] = array[i], array[k]
      end
   end
   return coroutine.wrap(function() permute(#array) end)
end

function lib.invert(array)
   local out = {}
   for k, v in pairs(array) do out[v] = k end
   return out
end

-- every value through tostring, joined from i (1) to j (#array) with sep
function lib.concat(array, sep, i, j)
   local strings = {}
   for k, v in pairs(array) do strings[k] = tostring(v) end
   return tconcat(strings, sep, i or 1, j or #array)
end

---------------------------------------------------------------------------- utility functions

function lib.noop() end

function lib.identity(value) return value end

function lib.constant(value)
   return function() return value end
end

-- results cached (weakly) under hash(...), the first argument by default; a falsy result is
-- computed again next time
function lib.memoize(f, hash)
   local cache = setmetatable({}, {__mode = 'kv'})
   hash = hash or lib.identity
   return function(...)
      local key = hash(...)
      if key == nil or key ~= key then return (f(...)) end
      local hit = cache[key]
      if not hit then
         hit = f(...)
         cache[key] = hit
      end
      return hit
   end
end

-- f called every time, with the arguments of the count-th call once past it
function lib.before(f, count)
   local calls, args = 0, pack()
   return function(...)
      calls = calls + 1
      if calls <= count then args = pack(...) end
      return f(unpack(args, 1, args.n))
   end
end

function lib.once(f) return lib.before(f, 1) end

function lib.after(f, count)
   local calls = 0
   return function(...)
      calls = calls + 1
      if calls >= count then return f(...) end
   end
end

-- compose(f, g, h)(...) is f(g(h(...))), one value passed along
function lib.compose(...)
   local fs = pack(...)
   return function(...)
      if fs.n == 0 then return nil end
      local r = fs[fs.n](...)
      for i = fs.n - 1, 1, -1 do r = fs[i](r) end
      return r
   end
end

function lib.pipe(value, ...)
   return lib.compose(...)(value)
end

function lib.complement(f)
   return function(...) return not f(...) end
end

-- the first result of each f(value) (nil ones left out)
function lib.juxtapose(value, ...)
   local out = {}
   for i = 1, select('#', ...) do
      local r = (select(i, ...))(value)
      if r ~= nil then out[#out + 1] = r end
   end
   return unpack(out)
end

function lib.wrap(f, wrapper)
   return function(...) return wrapper(f, ...) end
end

function lib.times(n, iter, ...)
   local out = {}
   for i = 1, n do out[i] = iter(i, ...) end
   return out
end

function lib.bind(f, v)
   return function(...) return f(v, ...) end
end

function lib.bind2(f, v)
   return function(t, ...) return f(t, v, ...) end
end

function lib.bindn(f, ...)
   local bound = pack(...)
   return function(...)
      local args = joined(bound, pack(...))
      return f(unpack(args, 1, args.n))
   end
end

function lib.bindAll(obj, ...)
   for _, name in ipairs({...}) do
      local method = obj[name]
      if method then obj[name] = lib.bind(method, obj) end
   end
   return obj
end

local lastId = -1

-- 0, 1, 2, ... for this state; through template:format(id) or template(id, ...) when given
function lib.uniqueId(template, ...)
   lastId = lastId + 1
   if type(template) == 'string' then return template:format(lastId) end
   if type(template) == 'function' then return template(lastId, ...) end
   return lastId
end

function lib.iterator(f, x)
   return function()
      x = f(x)
      return x
   end
end

-- the values of a generic-for iterator (f, state, start), e.g. string.gmatch's
function lib.array(...)
   local out = {}
   for v in ... do out[#out + 1] = v end
   return out
end

function lib.flip(f)
   return function(...)
      local n, args = select('#', ...), {...}
      local flipped = {}
      for i = 1, n do flipped[i] = args[n + 1 - i] end
      return f(unpack(flipped, 1, n))
   end
end

-- an array of the first result of each f(...) (nil ones left out)
function lib.over(...)
   local fs = pack(...)
   return function(...)
      local out = {}
      for i = 1, fs.n do out[#out + 1] = fs[i](...) end
      return out
   end
end

function lib.overEvery(...)
   local results = lib.over(...)
   return function(...)
      return lib.reduce(results(...), function(state, v) return state and v end)
   end
end

function lib.overSome(...)
   local results = lib.over(...)
   return function(...)
      return lib.reduce(results(...), function(state, v) return state or v end)
   end
end

-- f with its i-th argument through the i-th transform (falsy arguments are left alone)
function lib.overArgs(f, ...)
   local fs = pack(...)
   return function(...)
      local args = pack(...)
      for i = 1, fs.n do
         if args[i] then args[i] = fs[i](args[i]) end
      end
      return f(unpack(args, 1, args.n))
   end
end

-- the preset arguments with each '_' taken, in order, from the given ones, and the given
-- ones left over
local function fillPlaceholders(preset, given)
   local filled, used = {n = preset.n}, 0
   for i = 1, preset.n do
      if preset[i] == '_' then
         used = used + 1
         filled[i] = given[used]
      else
         filled[i] = preset[i]
      end
   end
   local rest = {n = mmax(given.n - used, 0)}
   for i = used + 1, given.n do rest[i - used] = given[i] end
   return filled, rest
end

function lib.partial(f, ...)
   local preset = pack(...)
   return function(...)
      local filled, rest = fillPlaceholders(preset, pack(...))
      local args = joined(filled, rest)
      return f(unpack(args, 1, args.n))
   end
end

function lib.partialRight(f, ...)
   local preset = pack(...)
   return function(...)
      local filled, rest = fillPlaceholders(preset, pack(...))
      local args = joined(rest, filled)
      return f(unpack(args, 1, args.n))
   end
end

-- one argument per call (nil ones ignored) until n_args (2) are there, then f's results.
-- The arguments gather in the curried function itself, as in 1.6.1: it is not reusable
-- halfway through, and one call past the end calls f's result
function lib.curry(f, n_args)
   n_args = n_args or 2
   local args = {}
   local function curried(v)
      if n_args == 1 then return f(v) end
      if v ~= nil then args[#args + 1] = v end
      if #args < n_args then return curried end
      local all = args
      args = {}
      return f(unpack(all))
   end
   return curried
end

-- the CPU seconds (os.clock) f(...) took, then its results
function lib.time(f, ...)
   local start = clock()
   local results = pack(f(...))
   return clock() - start, unpack(results, 1, results.n)
end

---------------------------------------------------------------------------- object functions

function lib.keys(obj)
   local out = {}
   for k in pairs(obj) do out[#out + 1] = k end
   return out
end

function lib.values(obj)
   local out = {}
   for _, v in pairs(obj) do out[#out + 1] = v end
   return out
end

function lib.kvpairs(obj)
   local out = {}
   for k, v in pairs(obj) do out[#out + 1] = {k, v} end
   return out
end

function lib.toObj(kvpairs)
   local obj = {}
   for _, kv in ipairs(kvpairs) do obj[kv[1]] = kv[2] end
   return obj
end

function lib.property(key)
   return function(obj) return obj[key] end
end

function lib.propertyOf(obj)
   return function(key) return obj[key] end
end

function lib.toBoolean(value) return not not value end

function lib.extend(destObj, ...)
   for i = 1, select('#', ...) do
      local source = select(i, ...)
      if type(source) == 'table' then
         for k, v in pairs(source) do destObj[k] = v end
      end
   end
   return destObj
end

-- keys of different types are ordered by type name, so sorting them does not fail
local function keyOrder(a, b)
   local ta, tb = type(a), type(b)
   if ta ~= tb then return ta < tb end
   if ta == 'number' or ta == 'string' then return a < b end
   return tostring(a) < tostring(b)
end

-- the sorted names of obj's functions (the library's by default), with those of its
-- metatable's __index table when recurseMt is given
function lib.functions(obj, recurseMt)
   obj = obj or lib
   local names = {}
   for k, v in pairs(obj) do
      if type(v) == 'function' then names[#names + 1] = k end
   end
   if recurseMt then
      local mt = getmetatable(obj)
      local index = type(mt) == 'table' and mt.__index
      if type(index) == 'table' then
         for _, name in ipairs(lib.functions(index)) do names[#names + 1] = name end
      end
   end
   tsort(names, keyOrder)
   return names
end

-- a copy of obj's pairs without its metatable, nested tables copied too unless shallow;
-- nil when a nested table contains one of its ancestors
local function copyTable(t, shallow, open)
   local copy = {}
   open[t] = true
   for k, v in pairs(t) do
      if type(v) == 'table' and not shallow then
         if open[v] then return nil end
         v = copyTable(v, shallow, open)
         if v == nil then return nil end
      end
      copy[k] = v
   end
   open[t] = nil
   return copy
end

function lib.clone(obj, shallow)
   if type(obj) ~= 'table' then return obj end
   local copy = copyTable(obj, shallow, {})
   if copy == nil then
      error('<moses.clone> cannot deep-copy a table that contains itself (a shallow copy can)', 2)
   end
   return copy
end

function lib.tap(obj, f, ...)
   f(obj, ...)
   return obj
end

function lib.has(obj, key)
   return obj[key] ~= nil
end

-- the given keys (nested arrays of keys flattened) that obj has, with their values
function lib.pick(obj, ...)
   local out = {}
   for _, key in pairs(lib.flatten({...})) do
      local v = obj[key]
      if v ~= nil then out[key] = v end
   end
   return out
end

function lib.omit(obj, ...)
   local unwanted = lib.flatten({...})
   local out = {}
   for k, v in pairs(obj) do
      if not lib.include(unwanted, k) then out[k] = v end
   end
   return out
end

-- template's pairs added to obj where obj's value is falsy
function lib.template(obj, template)
   for k, v in pairs(template or {}) do
      if not obj[k] then obj[k] = v end
   end
   return obj
end

-- same type and ==, or tables with isEqual values at the same keys; with useMt, an __eq of
-- either table decides first
function lib.isEqual(objA, objB, useMt)
   local t = type(objA)
   if t ~= type(objB) then return false end
   if t ~= 'table' then return objA == objB end
   if useMt then
      local mtA, mtB = getmetatable(objA), getmetatable(objB)
      local eqA = type(mtA) == 'table' and mtA.__eq
      local eqB = type(mtB) == 'table' and mtB.__eq
      if eqA or eqB then
         return (eqA and eqA(objA, objB)) or (eqB and eqB(objB, objA)) or objA == objB
      end
   end
   if entries(objA) ~= entries(objB) then return false end
   for k, v in pairs(objA) do
      local w = objB[k]
      if w == nil or not lib.isEqual(v, w, useMt) then return false end
   end
   for k in pairs(objB) do
      if objA[k] == nil then return false end
   end
   return true
end

-- obj[method](obj, ...) (or obj[method] when not callable), else method(obj, ...)
function lib.result(obj, method, ...)
   local m = obj[method]
   if m then
      if lib.isCallable(m) then return m(obj, ...) end
      return m
   end
   if lib.isCallable(method) then return method(obj, ...) end
end

function lib.isTable(t) return type(t) == 'table' end

-- a function, or a table whose metatable has __call
function lib.isCallable(obj)
   if type(obj) == 'function' then return true end
   if type(obj) ~= 'table' then return false end
   local mt = getmetatable(obj)
   return (mt and mt.__call ~= nil) or false
end

-- a table whose every key is one of 1..n, n its number of entries
function lib.isArray(obj)
   if type(obj) ~= 'table' then return false end
   local n = 0
   for _ in pairs(obj) do
      n = n + 1
      if obj[n] == nil then return false end
   end
   return true
end

function lib.isIterable(obj)
   return (pcall(pairs, obj)) == true
end

-- nil, '', {} and anything that is neither a string nor a table
function lib.isEmpty(obj)
   if type(obj) == 'string' then return #obj == 0 end
   if type(obj) == 'table' then return next(obj) == nil end
   return true
end

function lib.isString(obj) return type(obj) == 'string' end

function lib.isFunction(obj) return type(obj) == 'function' end

function lib.isNil(obj) return obj == nil end

function lib.isNumber(obj) return type(obj) == 'number' end

function lib.isNaN(obj) return type(obj) == 'number' and obj ~= obj end

function lib.isFinite(obj)
   return type(obj) == 'number' and obj > -huge and obj < huge
end

function lib.isBoolean(obj) return type(obj) == 'boolean' end

-- (infinities count as integers, NaN does not)
function lib.isInteger(obj)
   return type(obj) == 'number' and floor(obj) == obj
end

---------------------------------------------------------------------------- aliases

local ALIASES = {
   forEach = 'each', forEachi = 'eachi', loop = 'cycle', collect = 'map',
   inject = 'reduce', foldl = 'reduce', injectr = 'reduceRight', foldr = 'reduceRight',
   mapr = 'mapReduce', maprr = 'mapReduceRight', any = 'include', some = 'include',
   contains = 'include', filter = 'select', discard = 'reject', every = 'all',
   takeWhile = 'selectWhile', rejectWhile = 'dropWhile', shift = 'pop', remove = 'pull',
   rmRange = 'removeRange', chop = 'removeRange', sub = 'slice', head = 'first',
   take = 'first', tail = 'rest', skip = 'last', without = 'difference', diff = 'difference',
   symdiff = 'symmetricDifference', xor = 'symmetricDifference', uniq = 'unique',
   isuniq = 'isunique', transpose = 'zip', part = 'partition', perm = 'permutation',
   mirror = 'invert', join = 'concat', cache = 'memoize', juxt = 'juxtapose',
   uid = 'uniqueId', iter = 'iterator', methods = 'functions', choose = 'pick',
   drop = 'omit', defaults = 'template', compare = 'isEqual',
}
for alias, name in pairs(ALIASES) do lib[alias] = lib[name] end

---------------------------------------------------------------------------- argument checks

local function indexable(v)
   local t = type(v)
   return t == 'table' or t == 'userdata' or t == 'cdata'
end

-- kind name -> what it is called in messages, and its test
local KINDS = {
   table = {'a table', indexable},
   func = {'a function', callable},
   number = {'a number', function(v) return type(v) == 'number' end},
   object = {'a table or a string', function(v) return indexable(v) or type(v) == 'string' end},
   transform = {'a function or a key string', function(v) return type(v) == 'string' or callable(v) end},
   partsize = {'a size of at least 1', function(v) return type(v) == 'number' and v >= 1 end},
   window = {'a size of at least 2', function(v) return type(v) == 'number' and v >= 2 end},
}

-- Each checked function's parameters, `name:kind` (kind? when nil may come; `...:kind` for
-- all further arguments); parameters not listed are not checked.
local SIGNATURES = {
   clear = 't:table', each = 't:table f:func', eachi = 't:table f:func', at = 't:table',
   count = 't:table', countf = 't:table f:func', cycle = 't:table n:number?',
   map = 't:table f:func', reduce = 't:table f:func',
   reduceby = 't:table f:func state:any pred:func', reduceRight = 't:table f:func',
   mapReduce = 't:table f:func', mapReduceRight = 't:table f:func',
   include = 't:table', detect = 't:table', where = 't:table props:table',
   findWhere = 't:table props:table', select = 't:table f:func', reject = 't:table f:func',
   all = 't:table f:func', invoke = 't:table', pluck = 't:table',
   max = 't:table transform:func?', min = 't:table transform:func?',
   shuffle = 't:table seed:number?', same = 'a:table b:table', sort = 't:table comp:func?',
   sortBy = 't:table transform:transform? comp:func?', groupBy = 't:table iter:func',
   countBy = 't:table iter:func', containsKeys = 't:table other:table',
   sameKeys = 'tA:table tB:table',

   sample = 'array:table n:number? seed:number?',
   sampleProb = 'array:table prob:number seed:number?',
   find = 'array:table value:any from:number?', reverse = 'array:table',
   fill = 'array:table value:any i:number? j:number?',
   selectWhile = 'array:table f:func', dropWhile = 'array:table f:func',
   sortedIndex = 'array:table value:any comp:func?', indexOf = 'array:table',
   lastIndexOf = 'array:table', findIndex = 'array:table predicate:func',
   findLastIndex = 'array:table predicate:func', addTop = 'array:table', push = 'array:table',
   pop = 'array:table n:number?', unshift = 'array:table n:number?', pull = 'array:table',
   removeRange = 'array:table start:number? finish:number?', chunk = 'array:any f:func',
   slice = 'array:table start:number? finish:number?', first = 'array:table n:number?',
   initial = 'array:table n:number?', last = 'array:table n:number?',
   rest = 'array:table index:number?', nth = 'array:table', compact = 'array:table',
   flatten = 'array:table', difference = 'array:table array2:table?',
   intersection = 'array:table ...:table', symmetricDifference = 'array:table array2:table',
   unique = 'array:table', isunique = 'array:table', zip = '...:table',
   append = 'array:table other:table', interleave = '...:table',
   interpose = 'value:any array:table', range = 'start:number? stop:number? step:number?',
   rep = 'value:any n:number', partition = 'array:table n:partsize?',
   sliding = 'array:table n:window?', permutation = 'array:table', invert = 'array:table',
   concat = 'array:table sep:any i:number? j:number?',

   memoize = 'f:func hash:func?', once = 'f:func', before = 'f:func count:number',
   after = 'f:func count:number', compose = '...:func', pipe = 'value:any ...:func',
   complement = 'f:func', juxtapose = 'value:any ...:func', wrap = 'f:func wrapper:func',
   times = 'n:number iter:func', bind = 'f:func', bind2 = 'f:func', bindn = 'f:func',
   bindAll = 'obj:table', iterator = 'f:func', array = 'f:func', flip = 'f:func',
   over = '...:func', overEvery = '...:func', overSome = '...:func',
   overArgs = 'f:func ...:func', partial = 'f:func', partialRight = 'f:func',
   curry = 'f:func n_args:number?', time = 'f:func',

   keys = 'obj:table', values = 'obj:table', kvpairs = 'obj:table', toObj = 'kvpairs:table',
   extend = 'destObj:table', functions = 'obj:table?', tap = 'obj:any f:func',
   has = 'obj:object', pick = 'obj:object', omit = 'obj:table',
   template = 'obj:table template:table?', result = 'obj:object',
}

-- 'a:table f:func?' -> {{name = 'a', kind = KINDS.table}, {name = 'f', kind = ..., optional = true}}
local function parseSignature(fname, text)
   local params = {}
   for name, kind, opt in text:gmatch('([%w_%.]+):(%a+)(%??)') do
      if kind ~= 'any' then
         local k = KINDS[kind] or error('moses: unknown argument kind ' .. kind .. ' for ' .. fname)
         params[#params + 1] = {name = name, kind = k, optional = opt == '?',
                                position = #params + 1, rest = name == '...'}
      else
         params[#params + 1] = {position = #params + 1}
      end
   end
   return params
end

local function typeName(v)
   local t = type(v)
   if t == 'userdata' or t == 'table' then
      local torch = rawget(_G, 'torch')
      local tt = torch and torch.typename and torch.typename(v)
      if tt then return tt end
   end
   return t
end

local function complain(fname, p, i, v)
   local what = p.kind[1] .. (p.optional and ' or nil' or '')
   local label = p.rest and '' or ' (' .. p.name .. ')'
   -- (level 4: complain, check, the library function's wrapper, its caller)
   error(format('<moses.%s> expects %s as argument #%d%s, got %s', fname, what, i, label,
                typeName(v)), 4)
end

local function check(fname, params, ...)
   for _, p in ipairs(params) do
      if p.rest then
         for i = p.position, select('#', ...) do
            local v = select(i, ...)
            if not p.kind[2](v) then complain(fname, p, i, v) end
         end
      elseif p.kind then
         local v = (select(p.position, ...))
         if not (p.optional and v == nil) and not p.kind[2](v) then
            complain(fname, p, p.position, v)
         end
      end
   end
end

---------------------------------------------------------------------------- chaining, the module

local moses = {}

-- a chained value: {_value = v, _wrapped = true}; its methods are the module's functions
local Chain = {}

local function chained(v)
   return setmetatable({_value = v, _wrapped = true}, Chain)
end

Chain.__index = setmetatable({}, {__index = function(_, name)
   local f = rawget(moses, name)
   if type(f) == 'function' then return f end
   error(format('<moses.chain> a chained value has no method %s', tostring(name)), 2)
end})

function Chain.__tostring(self)
   return 'moses chain(' .. tostring(rawget(self, '_value')) .. ')'
end

-- The library function f as the module offers it: checking its arguments, and, called on a
-- chained value (as a method), running on the wrapped value and wrapping the result.
local function offered(fname, f)
   local params = SIGNATURES[fname] and parseSignature(fname, SIGNATURES[fname])
   if params then
      return function(...)
         local v = ...
         if getmetatable(v) == Chain then
            check(fname, params, rawget(v, '_value'), select(2, ...))
            return chained((f(rawget(v, '_value'), select(2, ...))))
         end
         check(fname, params, ...)
         return f(...)
      end
   end
   return function(...)
      local v = ...
      if getmetatable(v) == Chain then return chained((f(rawget(v, '_value'), select(2, ...)))) end
      return f(...)
   end
end

-- one wrapper per library function, shared by its aliases (_.collect == _.map)
for name, f in pairs(lib) do
   if not ALIASES[name] then moses[name] = offered(name, f) end
end
for alias, name in pairs(ALIASES) do moses[alias] = moses[name] end

function moses.chain(value)
   return chained(value)
end

function moses.value(self)
   if getmetatable(self) ~= Chain then
      error(format('<moses.value> expects a chained value (from _.chain(v) or _(v)), got %s',
                   typeName(self)), 2)
   end
   return rawget(self, '_value')
end

-- copies the library's functions into context (_G by default); with noConflict, keys
-- context already has keep their values
function moses.import(context, noConflict)
   if context ~= nil and type(context) ~= 'table' then
      error(format('<moses.import> expects a table or nil as argument #1 (context), got %s',
                   typeName(context)), 2)
   end
   context = context or _G
   for _, name in ipairs(lib.functions()) do
      if not (noConflict and rawget(context, name)) then context[name] = moses[name] end
   end
   return context
end

moses._VERSION = 'Moses v1.6.1'
moses._URL = 'http://github.com/Yonaba/Moses'
moses._LICENSE = 'MIT'
moses._DESCRIPTION = 'functional helpers for Lua tables, arrays and functions'

return setmetatable(moses, {__call = function(_, value) return chained(value) end})
