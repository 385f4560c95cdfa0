-- torch.File: the abstract file of Torch7 (numbers, storages and strings, binary or ASCII).
--
-- Children (torch.DiskFile, torch.MemoryFile, torch.PipeFile) provide a byte backend:
--   self:_rawRead(ptr, nbytes) -> bytes read     self:_rawWrite(ptr, nbytes) -> bytes written
--   self:_getc() -> byte or nil at the end        self:_ungetc()  (steps one byte back)
--   self:_tell() -> 0-based offset                self:_seek(offset0), self:_seekEnd()
--   self:_length() -> total bytes (math.huge when unknown), self:_flush(), self:_close()
-- readObject/writeObject live in torch/serialization.lua.
local ffi = require('ffi')
local errors = require('sparktorch7.errors')

local File = torch.class('torch.File')

local byte = string.byte

-- element types the read/write methods know: C type and size (Long's size depends on longSize)
local ELEM = {
   Byte = {ctype = 'uint8_t', size = 1, fmt = nil},
   Char = {ctype = 'int8_t', size = 1, fmt = nil},
   Short = {ctype = 'int16_t', size = 2, fmt = '%d', integral = true},
   Int = {ctype = 'int32_t', size = 4, fmt = '%d', integral = true},
   Long = {ctype = 'int64_t', size = 8, fmt = '%d', integral = true},
   Float = {ctype = 'float', size = 4, fmt = '%.9g'},
   Double = {ctype = 'double', size = 8, fmt = '%.17g'},
}
for name, e in pairs(ELEM) do
   e.name = name
   e.ptr = ffi.typeof(e.ctype .. '*')
   e.cptr = ffi.typeof('const ' .. e.ctype .. '*')
   e.scratch = ffi.new(e.ctype .. '[1]')
end
File._ELEM = ELEM

local int32ptr = ffi.typeof('int32_t*')
local u8ptr = ffi.typeof('uint8_t*')

-- ------------------------------------------------------------------ state
-- Every child calls this from its constructor.
function File:_initState(name, readable, writable, quiet)
   self._name = name
   self._readable = readable and true or false
   self._writable = writable and true or false
   self._quiet = quiet and true or false
   self._binary = false          -- Torch7 files start in ASCII mode
   self._autoSpacing = true
   self._hasError = false
   self._longSize = 0            -- 0: native (8 bytes here); 4 or 8
   self._native = true           -- byte order of the file is the CPU's (little-endian here)
   self._open = true
   self._refs = {force = false}
end

function File:_where(offset)
   return string.format('at byte offset %d of %s', offset or self:_tell(), self._name)
end

-- A read past the end or an unreadable value: an error of kind 't7format' (sparktorch7.errors),
-- T7FormatError in Python.
function File:_formatError(msg, offset)
   errors.raise('t7format', string.format('%s %s', msg, self:_where(offset)), 0)
end

function File:_checkOpen()
   if not self._open then
      error(string.format('<%s> attempt to use a closed file (%s)', torch.typename(self), self._name), 0)
   end
end

function File:_checkReadable()
   self:_checkOpen()
   if not self._readable then
      error(string.format('<%s> attempt to read in a write-only file (%s)', torch.typename(self), self._name), 0)
   end
end

function File:_checkWritable()
   self:_checkOpen()
   if not self._writable then
      error(string.format('<%s> attempt to write in a read-only file (%s)', torch.typename(self), self._name), 0)
   end
end

-- Bytes left to read (math.huge when the backend cannot tell, e.g. a pipe).
function File:_remaining()
   local len = self:_length()
   if len == math.huge then return math.huge end
   return math.max(0, len - self:_tell())
end

-- A short read: an error (pedantic) or the error flag (quiet).
function File:_shortRead(what, wanted, got, offset)
   self._hasError = true
   self._eof = true
   if not self._quiet then
      self:_formatError(string.format('truncated data: expected %d %s, got %d', wanted, what, got), offset)
   end
end

-- ------------------------------------------------------------------ modes
function File:binary() self:_checkOpen(); self._binary = true; return self end
function File:ascii() self:_checkOpen(); self._binary = false; return self end
function File:isBinary() return self._binary end
function File:autoSpacing() self._autoSpacing = true; return self end
function File:noAutoSpacing() self._autoSpacing = false; return self end
function File:isAutoSpacing() return self._autoSpacing end
function File:quiet() self._quiet = true; return self end
function File:pedantic() self._quiet = false; return self end
function File:isQuiet() return self._quiet end
function File:hasError() return self._hasError end
function File:clearError() self._hasError = false; return self end
function File:isReadable() return self._readable end
function File:isWritable() return self._writable end
function File:isOpened() return self._open end

function File:longSize(size)
   self:_checkOpen()
   if size ~= 0 and size ~= 4 and size ~= 8 then
      error(string.format('<%s> longSize must be 0, 4 or 8, got %s', torch.typename(self), tostring(size)), 2)
   end
   self._longSize = size
   return self
end

function File:nativeEndianEncoding() self:_checkOpen(); self._native = true; return self end
function File:littleEndianEncoding() self:_checkOpen(); self._native = ffi.abi('le'); return self end
function File:bigEndianEncoding() self:_checkOpen(); self._native = ffi.abi('be'); return self end

-- positions are 1-based, as in Lua
function File:position() self:_checkOpen(); return self:_tell() + 1 end

function File:seek(position)
   self:_checkOpen()
   if type(position) ~= 'number' or position < 1 or position ~= math.floor(position) then
      error(string.format('<%s> seek expects a position >= 1, got %s', torch.typename(self), tostring(position)), 2)
   end
   if not self:_seek(position - 1) then
      self._hasError = true
      if not self._quiet then
         error(string.format('<%s> unable to seek to position %d in %s', torch.typename(self), position, self._name), 2)
      end
   end
   return self
end

function File:seekEnd() self:_checkOpen(); self:_seekEnd(); return self end
function File:synchronize() self:_checkOpen(); self:_flush(); return self end

function File:close()
   self:_checkOpen()
   self:_close()
   self._open = false
   return true
end

-- ------------------------------------------------------------------ byte order
local function swapBytes(p, esize, n)
   p = ffi.cast(u8ptr, p)
   local half = esize / 2
   for b = 0, n - 1 do
      local base = b * esize
      for i = 0, half - 1 do
         local x = p[base + i]
         p[base + i] = p[base + esize - 1 - i]
         p[base + esize - 1 - i] = x
      end
   end
end

-- ------------------------------------------------------------------ ASCII tokens
local function isspace(c) return c == 32 or (c >= 9 and c <= 13) end

-- the next whitespace-delimited token (leading whitespace skipped), or nil at the end;
-- tokens longer than 400 bytes are cut there (no number is that long)
local tokbuf = ffi.new('uint8_t[400]')
function File:_readToken()
   local c = self:_getc()
   while c and isspace(c) do c = self:_getc() end
   if not c then return nil end
   local n = 0
   while c and not isspace(c) do
      tokbuf[n] = c
      n = n + 1
      if n >= 400 then return ffi.string(tokbuf, n) end
      c = self:_getc()
   end
   if c then self:_ungetc() end
   return ffi.string(tokbuf, n)
end

-- after an ASCII read with autoSpacing, one end of line is part of the value
function File:_skipEol()
   local c = self:_getc()
   if c and c ~= 10 then self:_ungetc() end
   -- every write of Torch7 ends its line: when loading objects, a missing one means the
   -- text was cut (a cut number still parses as a number)
   if c == nil and self._strictEol then self:_shortRead('end of line', 1, 0) end
end

-- ------------------------------------------------------------------ element I/O
-- Read n elements of type e into ptr; returns the count read (errors when pedantic).
function File:_readElems(e, ptr, n)
   if n == 0 then return 0 end
   local offset = self:_tell()
   if self._binary then
      local esize = e.size
      local long4 = e.name == 'Long' and self._longSize == 4
      if long4 then esize = 4 end
      local nbytes = esize * n
      local remaining = self:_remaining()
      if nbytes > remaining then
         -- do not read at all what is known to be missing: the caller's storage stays as it was
         self:_shortRead(e.name .. ' values', n, math.floor(remaining / esize), offset)
         n = math.floor(remaining / esize)
         nbytes = esize * n
         if n == 0 then return 0 end
      end
      local got = self:_rawRead(ptr, nbytes)
      local nread = math.floor(got / esize)
      if not self._native and esize > 1 then swapBytes(ptr, esize, nread) end
      if long4 then
         -- widen in place, from the end, int32 -> int64
         local src, dst = ffi.cast(int32ptr, ptr), ffi.cast(e.ptr, ptr)
         for i = nread - 1, 0, -1 do dst[i] = src[i] end
      end
      if nread < n then self:_shortRead(e.name .. ' values', n, nread, offset) end
      return nread
   end
   -- ASCII
   local nread, bad = 0, false
   if e.size == 1 and not e.fmt then
      local remaining = self:_remaining()
      local want = math.min(n, remaining)
      nread = want > 0 and self:_rawRead(ptr, want) or 0
   else
      local p = ffi.cast(e.ptr, ptr)
      for i = 0, n - 1 do
         local tok = self:_readToken()
         local v = tok and tonumber(tok)
         if v == nil then
            if tok then
               bad = true
               self._hasError = true
               if not self._quiet then
                  self:_formatError(string.format('expected a %s number, got %q', e.name, tok:sub(1, 40)), offset)
               end
            end
            break
         end
         if e.integral and (v ~= math.floor(v) or v ~= v) then
            bad = true
            self._hasError = true
            if not self._quiet then
               self:_formatError(string.format('expected an integral %s number, got %q', e.name, tok:sub(1, 40)), offset)
            end
            break
         end
         p[i] = v
         nread = nread + 1
      end
   end
   if self._autoSpacing then self:_skipEol() end
   if nread < n and not bad then self:_shortRead(e.name .. ' values', n, nread, offset) end
   return nread
end

-- Write n elements of type e from ptr; returns the count written.
function File:_writeElems(e, ptr, n)
   if self._binary then
      if n == 0 then return 0 end
      local esize = e.size
      local src = ptr
      local long4 = e.name == 'Long' and self._longSize == 4
      if long4 or not self._native then
         local tmp
         if long4 then
            esize = 4
            tmp = ffi.new('int32_t[?]', n)
            local p = ffi.cast(e.cptr, ptr)
            for i = 0, n - 1 do
               local v = p[i]
               if v > 2147483647 or v < -2147483648 then
                  error(string.format('<%s> writeLong: %s does not fit the 4-byte longs of this file (longSize(4))',
                     torch.typename(self), tostring(v):gsub('LL$', '')), 0)
               end
               tmp[i] = v
            end
         else
            tmp = ffi.new('uint8_t[?]', esize * n)
            ffi.copy(tmp, ptr, esize * n)
         end
         if not self._native then swapBytes(tmp, esize, n) end
         src = tmp
      end
      local wrote = self:_rawWrite(src, esize * n)
      local nwrite = math.floor(wrote / esize)
      if nwrite < n then self:_writeFailed(n, nwrite) end
      return nwrite
   end
   local sep = self._autoSpacing and ' ' or ''
   if e.size == 1 and not e.fmt then
      local s = ffi.string(ptr, n)
      if self._autoSpacing and n > 0 then s = s .. '\n' end
      if self:_rawWrite(s, #s) < #s then
         self:_writeFailed(n, 0)
         return 0
      end
      return n
   end
   -- numbers as text, written in chunks (a table of every value would not fit big storages)
   local p = ffi.cast(e.cptr, ptr)
   local fmt, long = e.fmt, e.name == 'Long'
   local CHUNK = 4096
   local parts = {}
   for first = 0, n - 1, CHUNK do
      local last = math.min(first + CHUNK, n) - 1
      local m = 0
      for i = first, last do
         m = m + 1
         if long then
            parts[m] = (tostring(p[i]):gsub('U?LL$', ''))
         else
            parts[m] = string.format(fmt, tonumber(p[i]))
         end
      end
      for j = m + 1, #parts do parts[j] = nil end
      local s = table.concat(parts, sep)
      if last < n - 1 then
         s = s .. sep
      elseif self._autoSpacing then
         s = s .. '\n'
      end
      if self:_rawWrite(s, #s) < #s then
         self:_writeFailed(n, first)
         return first
      end
   end
   return n
end

function File:_writeFailed(wanted, got)
   self._hasError = true
   if not self._quiet then
      error(string.format('<%s> write error: wrote %d values instead of %d to %s',
         torch.typename(self), got, wanted, self._name), 3)
   end
end

local function storageOf(x, e)
   local tn = torch.typename(x)
   return tn == 'torch.' .. e.name .. 'Storage'
end

-- ------------------------------------------------------------------ typed methods
for name, e in pairs(ELEM) do
   -- readTYPE() -> number, readTYPE(n) -> new storage, readTYPE(storage) -> count read
   File['read' .. name] = function(self, arg)
      self:_checkReadable()
      if arg == nil then
         e.scratch[0] = 0
         local nread = self:_readElems(e, e.scratch, 1)
         if nread < 1 then return nil end
         return tonumber(e.scratch[0])
      elseif type(arg) == 'number' then
         if arg < 0 or arg ~= math.floor(arg) then
            error(string.format('<%s> read%s(n): n must be a count >= 0, got %s', torch.typename(self), name, tostring(arg)), 2)
         end
         local remaining = self:_remaining()
         local per = self._binary and ((name == 'Long' and self._longSize == 4) and 4 or e.size) or 1
         local n = arg
         if n * per > remaining then
            self:_shortRead(name .. ' values', arg, math.floor(remaining / per))
            n = math.floor(remaining / per)
         end
         local storage = torch[name .. 'Storage'](n)
         local nread = self:_readElems(e, storage:data(), n)
         if nread < n then storage:resize(nread) end
         return storage
      elseif storageOf(arg, e) then
         return self:_readElems(e, arg:data(), arg:size())
      end
      error(string.format('<%s> read%s expects nothing, a count or a torch.%sStorage, got %s',
         torch.typename(self), name, name, torch.typename(arg) or type(arg)), 2)
   end

   -- writeTYPE(number) or writeTYPE(storage) -> count written
   File['write' .. name] = function(self, arg)
      self:_checkWritable()
      if type(arg) == 'number' then
         e.scratch[0] = arg
         return self:_writeElems(e, e.scratch, 1)
      elseif storageOf(arg, e) then
         return self:_writeElems(e, arg:data(), arg:size())
      elseif name == 'Char' and type(arg) == 'string' then
         return self:_writeElems(e, arg, #arg)
      end
      error(string.format('<%s> write%s expects a number or a torch.%sStorage, got %s',
         torch.typename(self), name, name, torch.typename(arg) or type(arg)), 2)
   end
end

function File:writeBool(value)
   return self:writeInt(value and 1 or 0)
end

function File:readBool()
   return self:readInt() == 1
end

-- One pointer (a number such as torch.pointer gives) as a 64-bit integer: 8 bytes in a
-- binary file whatever its longSize, the decimal integer in an ASCII one.
local POINTER = {name = 'Pointer', ctype = 'int64_t', size = 8, fmt = '%d', integral = true}
POINTER.ptr = ffi.typeof('int64_t*')
POINTER.cptr = ffi.typeof('const int64_t*')
POINTER.scratch = ffi.new('int64_t[1]')

function File:writePointer(p)
   self:_checkWritable()
   if type(p) ~= 'number' or p ~= math.floor(p) then
      error(string.format('<%s> writePointer expects an integer, got %s', torch.typename(self), tostring(p)), 2)
   end
   POINTER.scratch[0] = p
   return self:_writeElems(POINTER, POINTER.scratch, 1)
end

function File:readPointer()
   self:_checkReadable()
   POINTER.scratch[0] = 0
   if self:_readElems(POINTER, POINTER.scratch, 1) < 1 then return nil end
   return tonumber(POINTER.scratch[0])
end

-- n raw bytes as a Lua string (readChar without a storage); short reads follow the quiet flag
function File:_readRawString(n)
   self:_checkReadable()
   local offset = self:_tell()
   if n < 0 or n ~= math.floor(n) then
      self:_formatError(string.format('invalid string length %s', tostring(n)), offset)
   end
   local remaining = self:_remaining()
   if n > remaining then
      self:_shortRead('bytes of a string', n, remaining, offset)
      n = remaining
   end
   local buf = ffi.new('uint8_t[?]', math.max(n, 1))
   local got = n > 0 and self:_rawRead(buf, n) or 0
   if not self._binary and self._autoSpacing then self:_skipEol() end
   if got < n then self:_shortRead('bytes of a string', n, got, offset) end
   return ffi.string(buf, got)
end

-- ------------------------------------------------------------------ strings
function File:readString(format)
   self:_checkReadable()
   if type(format) ~= 'string' or not (format:sub(1, 2) == '*a' or format:sub(1, 2) == '*l') then
      error(string.format("<%s> readString: format must be '*a' or '*l', got %s", torch.typename(self), tostring(format)), 2)
   end
   local parts = {}
   if format:sub(2, 2) == 'a' then
      local chunk = ffi.new('uint8_t[?]', 65536)
      while true do
         local got = self:_rawRead(chunk, 65536)
         if got > 0 then parts[#parts + 1] = ffi.string(chunk, got) end
         if got < 65536 then break end
      end
   else
      local c = self:_getc()
      local any = c ~= nil
      while c and c ~= 10 do
         parts[#parts + 1] = string.char(c)
         c = self:_getc()
      end
      if not any then parts = nil end
   end
   if parts == nil or (format:sub(2, 2) == 'a' and #parts == 0) then
      self._hasError = true
      if not self._quiet then
         error(string.format('<%s> read error: no data left %s', torch.typename(self), self:_where()), 2)
      end
      return ''
   end
   return table.concat(parts)
end

function File:writeString(str)
   self:_checkWritable()
   if type(str) ~= 'string' then
      error(string.format('<%s> writeString expects a string, got %s', torch.typename(self), type(str)), 2)
   end
   local wrote = self:_rawWrite(str, #str)
   if wrote < #str then self:_writeFailed(#str, wrote) end
   return wrote
end

return File
