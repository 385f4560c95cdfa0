-- torch.TestSuite: a table of test functions that refuses a test defined twice.
--
--   local tests = torch.TestSuite()
--   function tests.myTest() ... end
--   torch.Tester():add(tests):run()
local TestSuite = torch.class('torch.TestSuite')

function TestSuite:__init()
   rawset(self, '__tests', {})
end

TestSuite.__newindex = function(self, name, fn)
   local tests = rawget(self, '__tests')
   if tests[name] ~= nil then
      error('Test ' .. tostring(name) .. ' is already defined.', 2)
   end
   tests[name] = fn
end

TestSuite.__index = function(self, name)
   local tests = rawget(self, '__tests')
   local fn = tests and tests[name]
   if fn ~= nil then return fn end
   return TestSuite[name]
end

return TestSuite
