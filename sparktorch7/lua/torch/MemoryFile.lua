-- torch.MemoryFile([storage] [, mode]): a torch.File in a growable memory buffer.
--
-- Differences from Torch7: the file owns its buffer (a CharStorage given to the
-- constructor is copied in, and storage() returns a copy of the contents followed by
-- one '\0'), so later changes to either side are not shared.
local ffi = require('ffi')
require('torch.File')

local MemoryFile, parent = torch.class('torch.MemoryFile', 'torch.File')

for _, decl in ipairs({
   'void* malloc(size_t size);',
   'void* realloc(void* ptr, size_t size);',
   'void free(void* ptr);',
}) do
   pcall(ffi.cdef, decl)
end
local C = ffi.C
local u8ptr = ffi.typeof('uint8_t*')

local function freeBuffer(p) C.free(p) end

function MemoryFile:__init(a, b)
   local storage, mode
   if type(a) == 'string' then
      mode = a
   else
      storage, mode = a, b
   end
   mode = mode or 'rw'
   if mode ~= 'r' and mode ~= 'w' and mode ~= 'rw' then
      error(string.format("<torch.MemoryFile> mode must be 'r', 'w' or 'rw', got %s", tostring(mode)), 3)
   end
   self:_initState('<memory>', mode:find('r') ~= nil, mode:find('w') ~= nil, false)
   self._buf = nil       -- uint8_t*: owned (malloc) or borrowed from a Lua string
   self._cap = 0         -- bytes owned; 0 while borrowing
   self._len = 0
   self._pos = 0
   if storage ~= nil then
      if torch.typename(storage) ~= 'torch.CharStorage' then
         error(string.format('<torch.MemoryFile> expects a torch.CharStorage or a mode, got %s',
            torch.typename(storage) or type(storage)), 3)
      end
      local n = storage:size()
      local data = ffi.cast(u8ptr, storage:data())
      -- a trailing '\0' (as storage() and torch.serializeToStorage leave) is not content
      if n > 0 and data[n - 1] == 0 then n = n - 1 end
      self:_reserve(n)
      if n > 0 then ffi.copy(self._buf, data, n) end
      self._len = n
   end
end

-- Read from the bytes of a Lua string without copying them (the file keeps the string).
function MemoryFile:_borrowString(s)
   self._keep = s
   self._buf = ffi.cast(u8ptr, s)
   self._cap = 0
   self._len = #s
   self._pos = 0
   return self
end

-- Make room for n bytes (owned memory, doubling).
function MemoryFile:_reserve(n)
   if n <= self._cap then return end
   local cap = math.max(n, self._cap * 2, 1024)
   local p
   if self._cap > 0 then
      local old = self._owner
      ffi.gc(old, nil)
      p = C.realloc(old, cap)
      if p == nil then
         ffi.gc(old, freeBuffer)
         error(string.format('<torch.MemoryFile> out of memory growing to %d bytes', cap), 0)
      end
   else
      p = C.malloc(cap)
      if p == nil then error(string.format('<torch.MemoryFile> out of memory allocating %d bytes', cap), 0) end
      if self._len > 0 then ffi.copy(p, self._buf, self._len) end
      self._keep = nil
   end
   self._owner = ffi.gc(p, freeBuffer)
   self._buf = ffi.cast(u8ptr, p)
   self._cap = cap
end

-- ------------------------------------------------------------------ contents
function MemoryFile:storage()
   self:_checkOpen()
   local s = torch.CharStorage(self._len + 1)
   if self._len > 0 then ffi.copy(s:data(), self._buf, self._len) end
   ffi.cast(u8ptr, s:data())[self._len] = 0
   return s
end

-- the contents as a Lua string (no trailing '\0')
function MemoryFile:_string()
   if self._len == 0 then return '' end
   return ffi.string(self._buf, self._len)
end

-- ------------------------------------------------------------------ byte backend
function MemoryFile:_rawRead(ptr, nbytes)
   local got = math.min(nbytes, self._len - self._pos)
   if got <= 0 then return 0 end
   ffi.copy(ptr, self._buf + self._pos, got)
   self._pos = self._pos + got
   return got
end

function MemoryFile:_rawWrite(ptr, nbytes)
   local stop = self._pos + nbytes
   self:_reserve(stop)
   ffi.copy(self._buf + self._pos, ptr, nbytes)
   self._pos = stop
   if stop > self._len then self._len = stop end
   return nbytes
end

function MemoryFile:_getc()
   local pos = self._pos
   if pos >= self._len then return nil end
   self._pos = pos + 1
   return self._buf[pos]
end

function MemoryFile:_ungetc() self._pos = self._pos - 1 end

-- File:_readToken, scanning the buffer in place
function MemoryFile:_readToken()
   local buf, pos, len = self._buf, self._pos, self._len
   while pos < len do
      local c = buf[pos]
      if not (c == 32 or (c >= 9 and c <= 13)) then break end
      pos = pos + 1
   end
   if pos >= len then
      self._pos = pos
      return nil
   end
   local start = pos
   local stop = math.min(len, start + 400)
   while pos < stop do
      local c = buf[pos]
      if c == 32 or (c >= 9 and c <= 13) then break end
      pos = pos + 1
   end
   self._pos = pos
   return ffi.string(buf + start, pos - start)
end
function MemoryFile:_tell() return self._pos end
function MemoryFile:_length() return self._len end

function MemoryFile:_seek(pos)
   if pos > self._len then return false end
   self._pos = pos
   return true
end

function MemoryFile:_seekEnd() self._pos = self._len end
function MemoryFile:_flush() end

function MemoryFile:_close()
   self._keep = nil
   self._buf = nil
   if self._owner then
      ffi.gc(self._owner, nil)
      C.free(self._owner)
      self._owner = nil
   end
   self._cap, self._len, self._pos = 0, 0, 0
end

return MemoryFile
