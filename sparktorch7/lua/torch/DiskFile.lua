-- torch.DiskFile(path, mode, quiet): a torch.File on disk, through C stdio by LuaJIT FFI.
local ffi = require('ffi')
require('torch.File')

local DiskFile, parent = torch.class('torch.DiskFile', 'torch.File')

-- stdio, declared one by one so that a declaration made elsewhere does not stop us
for _, decl in ipairs({
   'void* fopen(const char* path, const char* mode);',
   'void* popen(const char* command, const char* mode);',
   'size_t fread(void* ptr, size_t size, size_t n, void* stream);',
   'size_t fwrite(const void* ptr, size_t size, size_t n, void* stream);',
   'int fseeko(void* stream, int64_t offset, int whence);',
   'int64_t ftello(void* stream);',
   'int fgetc(void* stream);',
   'int ungetc(int c, void* stream);',
   'int fflush(void* stream);',
   'int fclose(void* stream);',
   'int pclose(void* stream);',
   'char* strerror(int errnum);',
}) do
   pcall(ffi.cdef, decl)
end
local C = ffi.C
local SEEK_SET, SEEK_END = 0, 2

local function closeHandle(h) C.fclose(h) end

local function checkMode(cls, mode, allowed)
   if not allowed[mode] then
      local names = {}
      for k in pairs(allowed) do names[#names + 1] = "'" .. k .. "'" end
      table.sort(names)
      error(string.format('<%s> file mode must be %s, got %s', cls, table.concat(names, ', '), tostring(mode)), 4)
   end
end

function DiskFile:__init(name, mode, quiet)
   mode = mode or 'r'
   if type(name) ~= 'string' then
      error(string.format('<torch.DiskFile> expects a file name (string), got %s', type(name)), 3)
   end
   checkMode('torch.DiskFile', mode, {r = true, w = true, rw = true})
   local readable, writable = mode:find('r') ~= nil, mode:find('w') ~= nil
   self:_initState(name, readable, writable, quiet)
   local h
   if readable and writable then
      h = C.fopen(name, 'r+b')
      if h == nil then
         h = C.fopen(name, 'w+b')
      end
   else
      h = C.fopen(name, readable and 'rb' or 'wb')
   end
   if h == nil then
      local why = ffi.string(C.strerror(ffi.errno()))
      self._open = false
      self._hasError = true
      if not self._quiet then
         error(string.format('<torch.DiskFile> cannot open <%s> in mode %s: %s', name, mode, why), 3)
      end
      return
   end
   self._handle = ffi.gc(h, closeHandle)
   self._len = nil
   if readable then
      -- fopen opens a directory; its first read fails with EISDIR
      local probe = ffi.new('uint8_t[1]')
      ffi.errno(0)
      if C.fread(probe, 1, 1, h) == 0 and ffi.errno() == 21 then
         self:_close()
         self._open = false
         self._hasError = true
         if not self._quiet then
            error(string.format('<torch.DiskFile> cannot open <%s> in mode %s: Is a directory', name, mode), 3)
         end
         return
      end
      -- the size bounds every length read from the file
      C.fseeko(h, 0, SEEK_END)
      self._len = tonumber(C.ftello(h))
      C.fseeko(h, 0, SEEK_SET)
   end
   self._pos = 0
   self._ungot = false
end

function DiskFile:name() return self._name end

-- ------------------------------------------------------------------ byte backend
-- stdio keeps one position for reads and writes; switching direction needs a seek,
-- so the position is tracked here and set before a direction change.
function DiskFile:_sync(dir)
   if self._dir ~= dir then
      if self._dir ~= nil then C.fseeko(self._handle, self._pos, SEEK_SET) end
      self._dir = dir
   end
end

function DiskFile:_rawRead(ptr, nbytes)
   self:_sync('r')
   local got = tonumber(C.fread(ptr, 1, nbytes, self._handle))
   self._pos = self._pos + got
   return got
end

function DiskFile:_rawWrite(ptr, nbytes)
   self:_sync('w')
   local wrote = tonumber(C.fwrite(ptr, 1, nbytes, self._handle))
   self._pos = self._pos + wrote
   if self._len and self._pos > self._len then self._len = self._pos end
   return wrote
end

function DiskFile:_getc()
   self:_sync('r')
   local c = C.fgetc(self._handle)
   if c < 0 then return nil end
   self._pos = self._pos + 1
   self._last = c
   return c
end

function DiskFile:_ungetc()
   self._pos = self._pos - 1
   C.ungetc(self._last, self._handle)
end

function DiskFile:_tell() return self._pos end

function DiskFile:_length()
   if self._len == nil then return math.huge end
   return self._len
end

function DiskFile:_seek(pos)
   if C.fseeko(self._handle, pos, SEEK_SET) ~= 0 then return false end
   self._pos = pos
   self._dir = nil
   return true
end

function DiskFile:_seekEnd()
   C.fseeko(self._handle, 0, SEEK_END)
   self._pos = tonumber(C.ftello(self._handle))
   self._dir = nil
   if self._len then self._len = math.max(self._len, self._pos) end
end

function DiskFile:_flush() C.fflush(self._handle) end

function DiskFile:_close()
   local h = self._handle
   self._handle = nil
   ffi.gc(h, nil)
   C.fclose(h)
end

return DiskFile
