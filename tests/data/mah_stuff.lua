-- The python2torch README's example script, rewritten for sparktorch7.compat.
-- Loaded by PyTorch("mah_stuff.lua") after require 'torch': its global functions
-- become methods, and each call returns a list of all results.

local greeting = 'Hello from Lua'   -- a local: not a method

function Hello()
  greetings_said = (greetings_said or 0) + 1
end

-- anInt, aFloat: numbers; aString: a string; anArray: a sequence of numbers;
-- aTensor: a torch tensor (optional).
function DoIt(anInt, aFloat, aString, anArray, aTensor)
  local total = 0
  for i = 1, #anArray do
    total = total + anArray[i]
  end
  local doubled = {}
  for i = 1, #anArray do
    doubled[i] = 2 * anArray[i]
  end
  local results = {anInt + 1, aFloat * 2, aString:upper() .. '!', #anArray, total, doubled}
  if aTensor ~= nil then
    local tsum = 0
    aTensor:apply(function(x) tsum = tsum + x end)
    results[#results + 1] = tsum
    results[#results + 1] = aTensor:dim()
    results[#results + 1] = aTensor     -- back to Python as the array it came from
  end
  return unpack(results)
end

function Greeting()
  return greeting, greetings_said or 0
end
