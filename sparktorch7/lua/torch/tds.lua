-- tds.Hash and tds.Vec (the C containers of the `tds` package) as plain Lua tables.
-- In a file, both are torch objects ("V 0") holding a Long count then the elements:
-- key/value object pairs for a Hash, values for a Vec. They load as ordinary tables
-- (a Vec as a sequence), and are written back as ordinary tables.
local tds = {}

-- Constructors for code that builds them: a Hash is a table, a Vec a sequence.
function tds.Hash(t)
   local h = {}
   for k, v in pairs(t or {}) do h[k] = v end
   return h
end

function tds.Vec(...)
   local first = ...
   if select('#', ...) == 1 and type(first) == 'table' then
      return {unpack(first)}
   end
   return {...}
end

tds.classes = {['tds.Hash'] = true, ['tds.Vec'] = true}

-- Read the body of a tds object (after its class name) from a torch.File; the table is
-- registered under `index` before its elements are read, so cycles work.
function tds.read(file, className, index, objects, force)
   local pos = file:_tell()
   local n = file:readLong()
   if n == nil then return nil end
   -- each element takes at least one type tag (two for a Hash pair)
   local per = (className == 'tds.Hash' and 2 or 1) * (file._binary and 4 or 2)
   if n < 0 or n ~= math.floor(n) or n * per > file:_remaining() then
      file:_formatError(string.format('invalid element count %s of a %s', tostring(n), className), pos)
   end
   local obj = {}
   if not force then objects[index] = obj end
   for i = 1, n do
      if className == 'tds.Hash' then
         local kpos = file:_tell()
         local k = file:readObject()
         local v = file:readObject()
         if k == nil or k ~= k then
            file:_formatError(string.format('invalid key (%s) in a tds.Hash', tostring(k)), kpos)
         end
         obj[k] = v
      else
         obj[i] = file:readObject()
      end
   end
   return obj
end

return tds
