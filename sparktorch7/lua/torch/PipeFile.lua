-- torch.PipeFile(command, mode, quiet): a torch.File reading the output of a shell command
-- ('r') or writing to its input ('w'), through popen. A pipe cannot seek.
local ffi = require('ffi')
require('torch.DiskFile')

local PipeFile, parent = torch.class('torch.PipeFile', 'torch.DiskFile')
local C = ffi.C

local function closePipe(h) C.pclose(h) end

function PipeFile:__init(command, mode, quiet)
   mode = mode or 'r'
   if type(command) ~= 'string' then
      error(string.format('<torch.PipeFile> expects a command (string), got %s', type(command)), 3)
   end
   if mode ~= 'r' and mode ~= 'w' then
      error(string.format("<torch.PipeFile> mode must be 'r' or 'w', got %s", tostring(mode)), 3)
   end
   self:_initState(command, mode == 'r', mode == 'w', quiet)
   local h = C.popen(command, mode)
   if h == nil then
      self._open = false
      self._hasError = true
      if not self._quiet then
         error(string.format('<torch.PipeFile> cannot run <%s> in mode %s', command, mode), 3)
      end
      return
   end
   self._handle = ffi.gc(h, closePipe)
   self._len = nil          -- unknown: reads are not bounded in advance
   self._pos = 0
end

function PipeFile:_sync(dir) self._dir = dir end
function PipeFile:_seek() return false end
function PipeFile:_seekEnd()
   self._hasError = true
   if not self._quiet then error('<torch.PipeFile> a pipe cannot seek', 0) end
end
function PipeFile:_ungetc()
   self._pos = self._pos - 1
   C.ungetc(self._last, self._handle)
end

function PipeFile:_close()
   local h = self._handle
   self._handle = nil
   ffi.gc(h, nil)
   C.pclose(h)
end

return PipeFile
