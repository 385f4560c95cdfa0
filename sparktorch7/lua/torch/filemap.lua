-- Storages whose memory is a file mapped with mmap (doc/storage.md,
-- torch.<T>Storage(filename [, shared [, size [, sharedMem]]])), as TH's map allocator:
--   shared false: the file is opened read-only and mapped privately (writes stay in memory)
--   shared true:  opened read-write (created if missing, grown to the size), mapped MAP_SHARED
--   sharedMem:    with shared, a POSIX shared-memory object (/dev/shm/<name>), removed
--                 (shm_unlink) when the storage is collected
-- size 0 (or none) maps the whole file. The mapping lives as long as the storage (and its
-- views): its owner is a cdata whose finalizer unmaps it, until the numpy bridge hands it
-- over to Python (then the last of the arrays and the storage unmaps it).
local ffi = require 'ffi'

local M = {}

pcall(ffi.cdef, [[
int open(const char *path, int flags, ...);
int close(int fd);
int64_t lseek(int fd, int64_t offset, int whence);
int ftruncate(int fd, int64_t length);
intptr_t write(int fd, const void *buf, size_t n);
void *mmap(void *addr, size_t length, int prot, int flags, int fd, int64_t offset);
int munmap(void *addr, size_t length);
char *strerror(int errnum);
int shm_open(const char *name, int oflag, unsigned int mode);
int shm_unlink(const char *name);
]])
local C = ffi.C

local osx = ffi.os == 'OSX'
local O_RDONLY, O_RDWR = 0, 2
local O_CREAT = osx and 0x200 or 0x40
local PROT_RW = 1 + 2                      -- PROT_READ | PROT_WRITE
local MAP_SHARED, MAP_PRIVATE = 1, 2
local SEEK_SET, SEEK_END = 0, 2
local MODE = tonumber('600', 8)
local MAP_FAILED = ffi.cast('void*', -1)

-- shm_open/shm_unlink are in libc since glibc 2.34, in librt before
local shm
local function shmLib()
  if shm == nil then
    shm = false
    for _, lib in ipairs { C, 'rt' } do
      local ok, L = pcall(function()
        local l = type(lib) == 'string' and ffi.load(lib) or lib
        local _ = l.shm_open, l.shm_unlink     -- resolve both now
        return l
      end)
      if ok then shm = L; break end
    end
  end
  return shm
end

local function oserror()
  return ffi.string(C.strerror(ffi.errno()))
end

local function fail(sname, fmt, ...)
  error(string.format('<%s> ' .. fmt, sname, ...), 0)
end

-- Map filename for a storage of type rec. Returns data (rec.ptr), owner (keep it alive
-- with the storage), the number of elements, and what the numpy bridge needs to take the
-- mapping over (torch._adopt): {bytes = length, shm = shared-memory name or nil}.
function M.map(rec, filename, shared, n, sharedMem)
  local sname = rec.sname
  if n ~= nil and (type(n) ~= 'number' or n ~= math.floor(n)) then
    fail(sname, 'the size of a mapped storage must be an integer, got %s', tostring(n))
  end
  n = n or 0
  sharedMem = shared and sharedMem and true or false
  local fd
  if sharedMem then
    local L = shmLib()
    if not L then fail(sname, 'cannot open <%s> in shared-memory mode: shm_open is not available', filename) end
    fd = L.shm_open(filename, O_RDWR + O_CREAT, MODE)
  elseif shared then
    fd = C.open(filename, O_RDWR + O_CREAT, ffi.cast('unsigned int', MODE))
  else
    fd = C.open(filename, O_RDONLY)
  end
  if fd < 0 then
    fail(sname, 'unable to open file <%s> in %s mode (%s)', filename, shared and 'read-write' or 'read-only', oserror())
  end
  local ok, res = pcall(function()
    local fsize = tonumber(C.lseek(fd, 0, SEEK_END))
    if fsize < 0 then fail(sname, 'unable to seek at the end of file <%s> (%s)', filename, oserror()) end
    local bytes = n * rec.size
    if n > 0 then
      if bytes > fsize then
        if not shared then
          fail(sname, 'file <%s> size (%d bytes) is smaller than the required mapping size <%d>', filename, fsize, bytes)
        end
        -- grow the file: shared memory by ftruncate, a file by writing its last byte
        if sharedMem then
          if C.ftruncate(fd, bytes) ~= 0 then
            fail(sname, 'unable to resize shared memory file <%s> to %d bytes (%s)', filename, bytes, oserror())
          end
        elseif C.lseek(fd, bytes - 1, SEEK_SET) < 0 or C.write(fd, '\0', 1) ~= 1 then
          fail(sname, 'unable to stretch file <%s> to %d bytes (%s)', filename, bytes, oserror())
        end
      end
    else
      n = math.floor(fsize / rec.size)
      bytes = fsize
    end
    if bytes == 0 then fail(sname, 'file <%s> is empty: nothing to map', filename) end
    local p = C.mmap(nil, bytes, PROT_RW, shared and MAP_SHARED or MAP_PRIVATE, fd, 0)
    if p == MAP_FAILED then
      fail(sname, 'unable to mmap %d bytes of file <%s> (%s)', bytes, filename, oserror())
    end
    return {p, bytes}
  end)
  C.close(fd)
  if not ok then error(res, 0) end
  local p, bytes = res[1], res[2]
  local unlink = sharedMem and shm.shm_unlink
  local owner = ffi.gc(ffi.cast('uint8_t*', p), function(q)
    C.munmap(q, bytes)
    if unlink then unlink(filename) end
  end)
  return ffi.cast(rec.ptr, p), owner, n, {bytes = bytes, shm = sharedMem and filename or nil}
end

return M
