-- paths: file names and directories, as Torch7's `paths` package (which `require 'torch'`
-- loads, so scripts use `paths.concat`, `paths.filep`, `paths.dofile` ... without requiring
-- it). POSIX only, through LuaJIT's FFI.
local ffi = require 'ffi'

ffi.cdef [[
typedef struct __dirstream DIR;
struct sparktorch7_dirent {     /* glibc's struct dirent on 64-bit Linux */
  uint64_t d_ino;
  int64_t d_off;
  unsigned short d_reclen;
  unsigned char d_type;
  char d_name[256];
};
DIR *opendir(const char *name);
struct sparktorch7_dirent *readdir(DIR *dirp);
int closedir(DIR *dirp);
int access(const char *path, int mode);
int mkdir(const char *path, unsigned int mode);
int rmdir(const char *path);
char *getcwd(char *buf, size_t size);
]]
local C = ffi.C

local paths = {}

local function check_string(fname, v, what)
   if type(v) ~= 'string' then
      error(string.format('<paths.%s> expects %s as a string, got %s', fname, what or 'a path', type(v)), 3)
   end
end

-- is a directory
function paths.dirp(path)
   check_string('dirp', path)
   local d = C.opendir(path)
   if d == nil then return false end
   C.closedir(d)
   return true
end

-- exists and is not a directory
function paths.filep(path)
   check_string('filep', path)
   return C.access(path, 0) == 0 and not paths.dirp(path)
end

function paths.is_absolute(path)
   check_string('is_absolute', path)
   return path:sub(1, 1) == '/'
end

-- the parts joined with '/'; an absolute part starts over, as in Torch7
function paths.concat(...)
   local n = select('#', ...)
   if n == 0 then return paths.cwd() end
   local out
   for i = 1, n do
      local p = select(i, ...)
      check_string('concat', p, 'each part')
      if out == nil or p:sub(1, 1) == '/' then
         out = p
      elseif p ~= '' then
         out = (out:sub(-1) == '/' and out or out .. '/') .. p
      end
   end
   if out:sub(1, 1) ~= '/' then out = paths.cwd() .. '/' .. out end
   -- drop '.' parts and fold 'x/..'
   local parts = {}
   for part in out:gmatch('[^/]+') do
      if part == '..' and #parts > 0 and parts[#parts] ~= '..' then
         parts[#parts] = nil
      elseif part ~= '.' then
         parts[#parts + 1] = part
      end
   end
   return '/' .. table.concat(parts, '/')
end

function paths.cwd()
   local buf = ffi.new('char[?]', 4096)
   if C.getcwd(buf, 4096) == nil then return nil end
   return ffi.string(buf)
end

-- the last part of a path, without the extension ext if given
function paths.basename(path, ext)
   check_string('basename', path)
   local base = path:gsub('/+$', ''):match('[^/]*$')
   if ext then
      local suffix = ext:sub(1, 1) == '.' and ext or '.' .. ext
      if #base > #suffix and base:sub(-#suffix) == suffix then base = base:sub(1, -#suffix - 1) end
   end
   return base
end

function paths.dirname(path)
   check_string('dirname', path)
   local trimmed = path:gsub('/+$', '')
   local dir = trimmed:match('^(.*)/[^/]*$')
   if dir == nil then return '.' end
   if dir == '' then return '/' end
   return dir
end

-- the extension without its dot, or nil
function paths.extname(path)
   check_string('extname', path)
   return paths.basename(path):match('^.+%.([^.]+)$')
end

-- the entries of a directory (with '.' and '..'), or nil if it cannot be read
function paths.dir(path)
   check_string('dir', path)
   local d = C.opendir(path)
   if d == nil then return nil end
   local names = {}
   while true do
      local e = C.readdir(d)
      if e == nil then break end
      names[#names + 1] = ffi.string(e.d_name)
   end
   C.closedir(d)
   return names
end

-- an iterator over the entries of a directory, those matching a Lua pattern (or a
-- function of the name returning true) if given
function paths.files(path, filter)
   local names = paths.dir(path) or {}
   local i = 0
   return function()
      while true do
         i = i + 1
         local name = names[i]
         if name == nil then return nil end
         if filter == nil or (type(filter) == 'function' and filter(name))
               or (type(filter) == 'string' and name:find(filter)) then
            return name
         end
      end
   end
end

function paths.iterfiles(path)
   return paths.files(path, function(name) return paths.filep(path .. '/' .. name) end)
end

function paths.iterdirs(path)
   return paths.files(path, function(name)
      return name ~= '.' and name ~= '..' and paths.dirp(path .. '/' .. name)
   end)
end

function paths.mkdir(path)
   check_string('mkdir', path)
   return C.mkdir(path, tonumber('755', 8)) == 0
end

function paths.rmdir(path)
   check_string('rmdir', path)
   return C.rmdir(path) == 0
end

function paths.rmall(path, yes)
   check_string('rmall', path)
   if yes ~= 'yes' then
      error("<paths.rmall> removes a whole tree: pass 'yes' as the second argument", 2)
   end
   if paths.dirp(path) then
      for name in paths.files(path) do
         if name ~= '.' and name ~= '..' then paths.rmall(path .. '/' .. name, 'yes') end
      end
      return paths.rmdir(path)
   end
   return os.remove(path) ~= nil
end

paths.home = os.getenv('HOME') or '/'

function paths.tmpname()
   return os.tmpname()
end

function paths.is_win() return false end
function paths.is_mac() return ffi.os == 'OSX' end
function paths.uname() return ffi.os, ffi.os, ffi.arch end

-- the file of the calling chunk (or nil when it was not loaded from a file)
function paths.thisfile(arg, depth)
   if arg ~= nil then
      check_string('thisfile', arg, 'a file name')
      local src = paths.thisfile(nil, 3)
      if src == nil then return paths.concat(arg) end
      return paths.concat(paths.dirname(src), arg)
   end
   local info = debug.getinfo(depth or 2, 'S')
   local src = info and info.source
   if src and src:sub(1, 1) == '@' then return paths.concat(src:sub(2)) end
   return nil
end

-- dofile with a name relative to the calling file's directory
function paths.dofile(f, ...)
   check_string('dofile', f, 'a file name')
   local info = debug.getinfo(2, 'S')
   local src = info and info.source
   local file = f
   if f:sub(1, 1) ~= '/' and src and src:sub(1, 1) == '@' then
      file = paths.concat(paths.dirname(src:sub(2)), f)
   end
   local chunk, err = loadfile(file)
   if not chunk then error(err, 2) end
   return chunk(...)
end

-- the first file in package.path that `require(name)` would load, or nil
function paths.findingfile(name)
   return package.searchpath and package.searchpath(name, package.path) or nil
end

return paths
