-- torch.Tester: Torch7's unit-test runner (doc/tester.md).
--
--   local tests = torch.TestSuite()
--   local tester = torch.Tester()
--   function tests.addition() tester:eq(1 + 1, 2, 'sum') end
--   tester:add(tests):run()          -- raises an error when a test failed
--
-- Every assert returns (ok, message); failures are collected and reported by run().
local errors = require('sparktorch7.errors')
local Tester = torch.class('torch.Tester')

local NCOLS = 80

function Tester:__init()
   self.errors = {}
   self.tests = {}
   self.warnings = {}
   self._warningCount = {}
   self.disabledTests = {}
   self._currentTestName = ''
   self._earlyAbort = false
   self._rethrowErrors = false
   self._summaryOnly = false
   self._assertTensorEqIgnoresDims = true
   self.countasserts = 0
end

function Tester:setEarlyAbort(earlyAbort) self._earlyAbort = earlyAbort and true or false; return self end
function Tester:setRethrowErrors(rethrow) self._rethrowErrors = rethrow and true or false; return self end
function Tester:setSummaryOnly(summaryOnly) self._summaryOnly = summaryOnly and true or false; return self end

-- ------------------------------------------------------------------ bookkeeping
function Tester:_success()
   self.countasserts = self.countasserts + 1
   return true
end

function Tester:_failure(message)
   self.countasserts = self.countasserts + 1
   -- the first frame outside this file: the line of the test that asserted
   local where = '?'
   for level = 2, 40 do
      local info = debug.getinfo(level, 'Sl')
      if not info then break end
      if not info.short_src:find('Tester%.lua$') and info.what ~= 'C' then
         where = info.short_src .. ':' .. tostring(info.currentline)
         break
      end
   end
   local name = self._currentTestName
   self.errors[name] = self.errors[name] or {}
   table.insert(self.errors[name], string.format('%s\n  at %s', message, where))
   return false, message
end

function Tester:_warning(message)
   local n = self._warningCount[message] or 0
   self._warningCount[message] = n + 1
   if n == 0 then
      io.write('\nWarning: ' .. message .. '\n')
      table.insert(self.warnings, message)
   end
end

local function noExtra(fname, ...)
   if select('#', ...) > 0 then
      error(string.format('<torch.Tester> Unexpected arguments to %s: %d extra argument(s) given', fname,
         select('#', ...)), 3)
   end
end

local function check(self, ok, message, detail)
   if ok then return self:_success() end
   local text = (message and message ~= '') and (tostring(message) .. '\n' .. detail) or detail
   return self:_failure(text)
end

-- ------------------------------------------------------------------ comparisons
local function isTensor(x) return torch.isTensor and torch.isTensor(x) or false end
local function isStorage(x) return torch.isStorage and torch.isStorage(x) or false end

-- element values of a tensor in row-major order, through the layout of docs/design-tensor.md
local function tensorValues(t)
   local out, n = {}, 0
   local dim = t._dim
   if dim == 0 then return out end
   local size, stride, data = t._size, t._stride, t._storage._data
   for d = 1, dim do if size[d] == 0 then return out end end
   local idx = {}
   for d = 1, dim do idx[d] = 0 end
   while true do
      local off = t._offset
      for d = 1, dim do off = off + idx[d] * stride[d] end
      n = n + 1
      out[n] = tonumber(data[off])
      local d = dim
      while d >= 1 do
         idx[d] = idx[d] + 1
         if idx[d] < size[d] then break end
         idx[d] = 0
         d = d - 1
      end
      if d < 1 then break end
   end
   return out
end

local function storageValues(s)
   local out = {}
   for i = 0, s._size - 1 do out[i + 1] = tonumber(s._data[i]) end
   return out
end

local function maxAbsDiff(a, b)
   local m = 0
   for i = 1, #a do
      local x, y = a[i], b[i]
      local d
      if x == y then d = 0 else d = math.abs(x - y) end
      if d ~= d then return math.huge end
      if d > m then m = d end
   end
   return m
end

local function sizesOf(t)
   local s = {}
   for i = 1, t._dim do s[i] = t._size[i] end
   return table.concat(s, 'x')
end

-- (equal?, why not) for two tensors; tolerance applies to the largest absolute difference
local function tensorsEqual(self, a, b, tolerance, ignoreDims)
   if torch.typename(a) ~= torch.typename(b) then
      return false, string.format('tensor types differ: %s vs %s', torch.typename(a), torch.typename(b))
   end
   local va, vb = tensorValues(a), tensorValues(b)
   if sizesOf(a) ~= sizesOf(b) then
      if not ignoreDims or #va ~= #vb or #va == 0 then
         return false, string.format('tensor sizes differ: %s vs %s', sizesOf(a), sizesOf(b))
      end
      self:_warning('assertTensorEq: tensors have the same number of elements but different dimensions')
   end
   local err = maxAbsDiff(va, vb)
   if err > tolerance then
      return false, string.format('max abs difference %s > tolerance %s', tostring(err), tostring(tolerance))
   end
   return true, err
end

-- (equal?, why not) for any two values, recursively through tables
local function generalEqual(self, got, expected, tolerance, seen)
   if isTensor(got) or isTensor(expected) then
      if not (isTensor(got) and isTensor(expected)) then
         return false, string.format('a %s vs a %s', torch.type(got), torch.type(expected))
      end
      return tensorsEqual(self, got, expected, tolerance, false)
   end
   if isStorage(got) or isStorage(expected) then
      if torch.typename(got) ~= torch.typename(expected) then
         return false, string.format('a %s vs a %s', torch.type(got), torch.type(expected))
      end
      if got:size() ~= expected:size() then
         return false, string.format('storage sizes differ: %d vs %d', got:size(), expected:size())
      end
      local err = maxAbsDiff(storageValues(got), storageValues(expected))
      if err > tolerance then
         return false, string.format('max abs difference %s > tolerance %s', tostring(err), tostring(tolerance))
      end
      return true
   end
   if type(got) ~= type(expected) then
      return false, string.format('a %s vs a %s', type(got), type(expected))
   end
   if type(got) == 'number' then
      if got == expected then return true end
      local d = math.abs(got - expected)
      if d <= tolerance then return true end
      return false, string.format('%s vs %s (difference %s > tolerance %s)', tostring(got), tostring(expected),
         tostring(d), tostring(tolerance))
   end
   if type(got) == 'table' then
      if got == expected then return true end
      seen = seen or {}
      if seen[got] == expected then return true end
      seen[got] = expected
      for k, v in pairs(got) do
         local ok, why = generalEqual(self, v, expected[k], tolerance, seen)
         if not ok then return false, string.format('at key %s: %s', tostring(k), why) end
      end
      for k in pairs(expected) do
         if got[k] == nil then return false, string.format('key %s missing from the first table', tostring(k)) end
      end
      return true
   end
   if got == expected then return true end
   return false, string.format('%s vs %s', tostring(got), tostring(expected))
end

-- optional (tolerance, message) in either order
local function tolMsg(a, b, default)
   if type(a) == 'string' or (a == nil and type(b) == 'number') then a, b = b, a end
   return a or default, b
end

-- ------------------------------------------------------------------ asserts
function Tester:assert(condition, message, ...)
   noExtra('assert', ...)
   if type(condition) ~= 'boolean' then
      self:_warning(':assert should only be used for boolean conditions; use :eq or :ne to compare objects')
   end
   return check(self, condition, message, 'BOOL violation: condition=' .. tostring(condition))
end

local function relation(name, symbol, op)
   Tester[name] = function(self, val, condition, message, ...)
      noExtra(name, ...)
      return check(self, op(val, condition), message,
         string.format('%s(%s) violation: val=%s, condition=%s', name:sub(7):upper(), symbol,
            tostring(val), tostring(condition)))
   end
end
relation('assertlt', '<', function(a, b) return a < b end)
relation('assertgt', '>', function(a, b) return a > b end)
relation('assertle', '<=', function(a, b) return a <= b end)
relation('assertge', '>=', function(a, b) return a >= b end)

function Tester:asserteq(val, condition, message, ...)
   noExtra('asserteq', ...)
   return check(self, val == condition, message,
      string.format('EQ(==) violation: val=%s, condition=%s', tostring(val), tostring(condition)))
end

function Tester:assertne(val, condition, message, ...)
   noExtra('assertne', ...)
   if type(val) == type(condition) and type(val) == 'table' then
      self:_warning('assertne should only be used to compare basic lua objects (numbers, booleans, ' ..
         'strings); use :ne for tables and tensors')
   end
   return check(self, val ~= condition, message,
      string.format('NE(~=) violation: val=%s, condition=%s', tostring(val), tostring(condition)))
end

function Tester:assertalmosteq(a, b, tolerance, message, ...)
   noExtra('assertalmosteq', ...)
   tolerance, message = tolMsg(tolerance, message, 1e-16)
   local err = math.abs(a - b)
   return check(self, err <= tolerance, message,
      string.format('ALMOST_EQ violation: |a - b| = %s, tolerance=%s', tostring(err), tostring(tolerance)))
end

function Tester:assertTensorEq(ta, tb, tolerance, message, ...)
   noExtra('assertTensorEq', ...)
   if not isTensor(ta) then error('<torch.Tester> First argument should be a Tensor', 2) end
   if not isTensor(tb) then error('<torch.Tester> Second argument should be a Tensor', 2) end
   tolerance, message = tolMsg(tolerance, message, 0)
   local ok, why = tensorsEqual(self, ta, tb, tolerance, self._assertTensorEqIgnoresDims)
   return check(self, ok, message, 'TensorEQ(==) violation: ' .. tostring(why))
end

function Tester:assertTensorNe(ta, tb, tolerance, message, ...)
   noExtra('assertTensorNe', ...)
   if not isTensor(ta) then error('<torch.Tester> First argument should be a Tensor', 2) end
   if not isTensor(tb) then error('<torch.Tester> Second argument should be a Tensor', 2) end
   tolerance, message = tolMsg(tolerance, message, 0)
   local ok = tensorsEqual(self, ta, tb, tolerance, self._assertTensorEqIgnoresDims)
   return check(self, not ok, message, 'TensorNE(~=) violation: the tensors are equal within ' .. tostring(tolerance))
end

function Tester:assertTableEq(ta, tb, tolerance, message, ...)
   noExtra('assertTableEq', ...)
   if type(ta) ~= 'table' or type(tb) ~= 'table' then
      error('<torch.Tester> assertTableEq expects two tables', 2)
   end
   tolerance, message = tolMsg(tolerance, message, 0)
   local ok, why = generalEqual(self, ta, tb, tolerance)
   return check(self, ok, message, 'TableEQ(==) violation: ' .. tostring(why))
end

function Tester:assertTableNe(ta, tb, tolerance, message, ...)
   noExtra('assertTableNe', ...)
   if type(ta) ~= 'table' or type(tb) ~= 'table' then
      error('<torch.Tester> assertTableNe expects two tables', 2)
   end
   tolerance, message = tolMsg(tolerance, message, 0)
   local ok = generalEqual(self, ta, tb, tolerance)
   return check(self, not ok, message, 'TableNE(~=) violation: the tables are equal')
end

function Tester:assertGeneralEq(got, expected, tolerance, message, ...)
   noExtra('eq', ...)
   tolerance, message = tolMsg(tolerance, message, 0)
   local ok, why = generalEqual(self, got, expected, tolerance)
   return check(self, ok, message, 'EQ violation: ' .. tostring(why))
end

function Tester:assertGeneralNe(got, expected, tolerance, message, ...)
   noExtra('ne', ...)
   tolerance, message = tolMsg(tolerance, message, 0)
   local ok = generalEqual(self, got, expected, tolerance)
   return check(self, not ok, message, 'NE violation: the values are equal')
end

Tester.eq = Tester.assertGeneralEq
Tester.ne = Tester.assertGeneralNe

function Tester:assertErrorObj(f, errcomp, message, ...)
   noExtra('assertErrorObj', ...)
   local ok, err = pcall(f)
   return check(self, not ok and errcomp(err), message,
      ok and 'ERROR violation: the function did not raise an error'
         or ('ERROR violation: unexpected error: ' .. tostring(err)))
end

function Tester:assertError(f, message, ...)
   noExtra('assertError', ...)
   return self:assertErrorObj(f, function() return true end, message)
end

function Tester:assertNoError(f, message, ...)
   noExtra('assertNoError', ...)
   local ok, err = pcall(f)
   return check(self, ok, message, 'NO_ERROR violation: the function raised: ' .. tostring(err))
end

function Tester:assertErrorMsg(f, errmsg, message, ...)
   noExtra('assertErrorMsg', ...)
   -- (a structured error, sparktorch7.errors, is compared by its text, as the string it replaces)
   return self:assertErrorObj(f, function(err)
      return err == errmsg or (errors.kind(err) ~= nil and tostring(err) == errmsg)
   end, message)
end

function Tester:assertErrorPattern(f, pattern, message, ...)
   noExtra('assertErrorPattern', ...)
   return self:assertErrorObj(f, function(err) return string.find(tostring(err), pattern) ~= nil end, message)
end

-- ------------------------------------------------------------------ tests
function Tester:add(f, name)
   if type(f) == 'table' and torch.typename(f) ~= 'torch.TestSuite' and getmetatable(f) == nil then
      self._plainTables = true
   end
   if type(f) == 'table' then
      local tests = f
      if torch.typename(f) == 'torch.TestSuite' then tests = rawget(f, '__tests') end
      for k, v in pairs(tests) do
         if type(v) == 'table' then
            error('<torch.Tester> Nested sets of tests are not supported (' .. tostring(k) .. ')', 2)
         end
         self:add(v, k)
      end
   elseif type(f) == 'function' then
      name = name or ('test' .. tostring(#self:_names() + 1))
      if name == '_setUp' or name == '_tearDown' then
         if self[name] then error('<torch.Tester> Only one ' .. name .. ' function is allowed', 2) end
         self[name] = f
      else
         if self.tests[name] then error('<torch.Tester> Test ' .. tostring(name) .. ' is already defined.', 2) end
         self.tests[name] = f
      end
   else
      error('<torch.Tester> add expects a function, a table of functions or a torch.TestSuite, got ' ..
         type(f), 2)
   end
   return self
end

function Tester:disable(names)
   if type(names) == 'string' then names = {names} end
   if type(names) ~= 'table' then error('<torch.Tester> disable expects a test name or a list of names', 2) end
   for _, n in ipairs(names) do
      if not self.tests[n] then error('<torch.Tester> disable: no test named ' .. tostring(n), 2) end
      self.disabledTests[n] = true
   end
   return self
end

function Tester:_names()
   local names = {}
   for n in pairs(self.tests) do names[#names + 1] = n end
   table.sort(names, function(a, b) return tostring(a) < tostring(b) end)
   return names
end

-- Run the tests (all, or the names given); prints progress and a report, and raises an
-- error when any test failed or raised.
function Tester:run(testNames)
   if type(testNames) == 'string' then testNames = {testNames} end
   local names = testNames or self:_names()
   for _, n in ipairs(names) do
      if not self.tests[n] then error('<torch.Tester> run: no test named ' .. tostring(n), 2) end
   end
   if self._plainTables then
      self:_warning('Tester:add: use TestSuite rather than plain lua table, to catch tests defined twice')
   end
   self.errors, self.countasserts = {}, 0
   local toRun = {}
   for _, n in ipairs(names) do if not self.disabledTests[n] then toRun[#toRun + 1] = n end end
   io.write(string.format('Running %d test%s\n', #toRun, #toRun == 1 and '' or 's'))
   local status = {}
   local failed = 0
   for i, name in ipairs(toRun) do
      self._currentTestName = name
      if not self._summaryOnly then
         io.write(string.format('%d/%d %s %s ', i, #toRun, name,
            string.rep('.', math.max(1, NCOLS - 12 - #tostring(name)))))
         io.flush()
      end
      local nerr = 0
      local ok, err
      if self._setUp then self._setUp(name) end
      if self._rethrowErrors then
         self.tests[name]()
         ok = true
      else
         ok, err = xpcall(self.tests[name], debug.traceback)
      end
      if self._tearDown then self._tearDown(name) end
      if not ok then
         self.errors[name] = self.errors[name] or {}
         table.insert(self.errors[name], 'Function call failed\n' .. tostring(err))
      end
      nerr = self.errors[name] and #self.errors[name] or 0
      status[name] = (not ok) and 'ERROR' or (nerr > 0 and 'FAIL' or 'PASS')
      if not self._summaryOnly then io.write('[' .. status[name] .. ']\n') end
      if status[name] ~= 'PASS' then
         failed = failed + 1
         if self._earlyAbort then break end
      end
      collectgarbage()
   end
   self:_report(toRun, status, failed)
   if failed > 0 then
      error(string.format('<torch.Tester> %d of %d test(s) failed', failed, #toRun), 2)
   end
   return self
end

function Tester:_report(names, status, failed)
   io.write(string.format('Completed %d assert%s in %d test%s with %d failure%s\n',
      self.countasserts, self.countasserts == 1 and '' or 's', #names, #names == 1 and '' or 's',
      failed, failed == 1 and '' or 's'))
   for _, name in ipairs(names) do
      if self.errors[name] then
         io.write(string.rep('-', NCOLS) .. '\n')
         io.write(tostring(name) .. ' [' .. tostring(status[name]) .. ']\n')
         for _, msg in ipairs(self.errors[name]) do io.write(msg .. '\n') end
      end
   end
   if failed > 0 then io.write(string.rep('-', NCOLS) .. '\n') end
end

return Tester
