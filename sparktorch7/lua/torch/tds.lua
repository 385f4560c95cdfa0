-- tds.Hash and tds.Vec (the C containers of the `tds` package) as plain Lua tables.
-- In a file, both are torch objects ("V 0") holding a Long count then the elements:
-- key/value object pairs for a Hash, values for a Vec. Once the `tds` package (lua/tds)
-- is required they load as its classes, as in Torch7 (which needs tds loaded to read
-- them); before that, as ordinary tables (a Vec as a sequence), written back as tables.
local tds = {}

-- the tds package's empty-object makers, when it is loaded
local function classes()
   local pkg = package.loaded['tds']
   return type(pkg) == 'table' and rawget(pkg, '_new') or nil
end

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

-- tds.AtomicCounter (a Long) is read only once the package defines it
tds.classes = setmetatable({['tds.Hash'] = true, ['tds.Vec'] = true}, {__index = function(_, name)
   if name == 'tds.AtomicCounter' and classes() then return true end
end})

-- Read the body of a tds object (after its class name) from a torch.File; the table is
-- registered under `index` before its elements are read, so cycles work.
function tds.read(file, className, index, objects, force)
   local make = classes()
   make = make and make[className]
   if className == 'tds.AtomicCounter' then
      local obj = make()
      if not force then objects[index] = obj end
      local v = file:readLong()
      if v == nil then return nil end
      obj:set(v)
      return obj
   end
   local pos = file:_tell()
   local n = file:readLong()
   if n == nil then return nil end
   -- each element takes at least one type tag (two for a Hash pair)
   local per = (className == 'tds.Hash' and 2 or 1) * (file._binary and 4 or 2)
   if n < 0 or n ~= math.floor(n) or n * per > file:_remaining() then
      file:_formatError(string.format('invalid element count %s of a %s', tostring(n), className), pos)
   end
   local obj = make and make() or {}
   if not force then objects[index] = obj end
   for i = 1, n do
      if className == 'tds.Hash' then
         local kpos = file:_tell()
         local k = file:readObject()
         local v = file:readObject()
         if k == nil or k ~= k then
            file:_formatError(string.format('invalid key (%s) in a tds.Hash', tostring(k)), kpos)
         end
         if make and v == nil then
            file:_formatError(string.format('nil value for key %s in a tds.Hash', tostring(k)), kpos)
         end
         if make then
            local ok, err = pcall(function() obj[k] = v end)
            if not ok then file:_formatError(tostring(err):gsub('^.-<tds', '<tds'), kpos) end
         else
            obj[k] = v
         end
      else
         local vpos = file:_tell()
         local v = file:readObject()
         if make then
            local ok, err = pcall(function() obj[i] = v end)
            if not ok then file:_formatError(tostring(err):gsub('^.-<tds', '<tds'), vpos) end
         else
            obj[i] = v
         end
      end
   end
   return obj
end

return tds
