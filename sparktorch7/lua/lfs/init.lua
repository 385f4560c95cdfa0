-- lfs: the part of LuaFileSystem (keplerproject/luafilesystem) that scoring scripts call,
-- in Lua over the runtime's `paths` (no C module): attributes (mode and size), dir,
-- currentdir, mkdir, rmdir. Other lfs functions raise an error naming what exists.
local paths = require 'paths'

local lfs = {_VERSION = 'LuaFileSystem 1.6 (sparktorch7 subset)'}

local function check_path(fname, path)
   if type(path) ~= 'string' then
      error(string.format("bad argument #1 to 'lfs.%s' (string expected, got %s)", fname, type(path)), 3)
   end
end

local function file_size(path)
   local f = io.open(path, 'rb')
   if not f then return nil end
   local size = f:seek('end')
   f:close()
   return size
end

local KNOWN = {mode = true, size = true}

-- lfs.attributes(path [, name]): a table {mode = 'file'|'directory', size = bytes},
-- or that one field; nil, message when the path does not exist (as lfs returns).
function lfs.attributes(path, name)
   check_path('attributes', path)
   if name ~= nil and (type(name) ~= 'string' or not KNOWN[name]) then
      error(string.format("<lfs.attributes> sparktorch7's lfs knows the attributes 'mode' and 'size', not %s",
                          tostring(name)), 2)
   end
   local attr
   if paths.dirp(path) then
      attr = {mode = 'directory', size = 4096}
   elseif paths.filep(path) then
      attr = {mode = 'file', size = file_size(path) or 0}
   else
      return nil, string.format("cannot obtain information from file '%s': No such file or directory", path), 2
   end
   if name then return attr[name] end
   return attr
end

-- lfs.dir(path): an iterator over the entries ('.' and '..' included); an error if unreadable
function lfs.dir(path)
   check_path('dir', path)
   local names = paths.dir(path)
   if not names then
      error(string.format('cannot open %s: No such file or directory', path), 2)
   end
   local i = 0
   return function()
      i = i + 1
      return names[i]
   end
end

function lfs.currentdir() return paths.cwd() end

function lfs.mkdir(path)
   check_path('mkdir', path)
   if paths.mkdir(path) then return true end
   return nil, string.format('cannot create directory %s', path)
end

function lfs.rmdir(path)
   check_path('rmdir', path)
   if paths.rmdir(path) then return true end
   return nil, string.format('cannot remove directory %s', path)
end

-- as LuaFileSystem's luaL_register(L, "lfs", ...) does, requiring it sets the global
-- `lfs` (char-rnn's sample.lua calls lfs.attributes after a bare require 'lfs')
rawset(_G, 'lfs', lfs)

setmetatable(lfs, {__index = function(_, k)
   error(string.format('<lfs> sparktorch7 ships lfs.attributes, dir, currentdir, mkdir and rmdir, not lfs.%s',
                       tostring(k)), 2)
end})

return lfs
