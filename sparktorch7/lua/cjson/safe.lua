-- cjson.safe: lua-cjson's variant whose encode and decode return nil and the error
-- message instead of raising (a wrong number of arguments still raises).
local cjson = require 'cjson'

local function protect(f, fname)
   return function(...)
      if select('#', ...) ~= 1 then
         error(string.format("bad argument #1 to '%s' (expected 1 argument)", fname), 0)
      end
      local ok, res = pcall(f, ...)
      if ok then return res end
      if type(res) ~= 'string' then error(res, 0) end    -- not a conversion error: pass it on
      return nil, res
   end
end

local function new()
   local safe = cjson.new()
   safe.encode = protect(safe.encode, 'encode')
   safe.decode = protect(safe.decode, 'decode')
   safe.new = new
   return safe
end

return new()
