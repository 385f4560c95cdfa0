-- torch.Timer: wall-clock and CPU time (doc/timer.md). The timer starts when created.
--   local t = torch.Timer(); work(); print(t:time().real)   -- {real=, user=, sys=} seconds
local ffi = require('ffi')

local Timer = torch.class('torch.Timer')

for _, decl in ipairs({
   'struct sparktorch7_timespec { int64_t tv_sec; long tv_nsec; };',
   'struct sparktorch7_timeval { int64_t tv_sec; int64_t tv_usec; };',
   -- struct rusage: two timevals, then 14 longs
   'struct sparktorch7_rusage { struct sparktorch7_timeval ru_utime, ru_stime; long ru_rest[14]; };',
   'int clock_gettime(int clk_id, struct sparktorch7_timespec* tp);',
   'int getrusage(int who, struct sparktorch7_rusage* usage);',
}) do
   pcall(ffi.cdef, decl)
end
local C = ffi.C
local CLOCK_MONOTONIC, RUSAGE_SELF = 1, 0
local ts = ffi.new('struct sparktorch7_timespec')
local ru = ffi.new('struct sparktorch7_rusage')

local function now()
   C.clock_gettime(CLOCK_MONOTONIC, ts)
   local real = tonumber(ts.tv_sec) + tonumber(ts.tv_nsec) * 1e-9
   C.getrusage(RUSAGE_SELF, ru)
   local user = tonumber(ru.ru_utime.tv_sec) + tonumber(ru.ru_utime.tv_usec) * 1e-6
   local sys = tonumber(ru.ru_stime.tv_sec) + tonumber(ru.ru_stime.tv_usec) * 1e-6
   return real, user, sys
end

function Timer:__init()
   self:reset()
end

-- zero the elapsed time (a stopped timer stays stopped)
function Timer:reset()
   self._acc = {real = 0, user = 0, sys = 0}
   if self._running == false then return self end
   self._running = true
   self._start = {now()}
   return self
end

function Timer:stop()
   if self._running then
      local r, u, s = now()
      self._acc.real = self._acc.real + r - self._start[1]
      self._acc.user = self._acc.user + u - self._start[2]
      self._acc.sys = self._acc.sys + s - self._start[3]
      self._running = false
   end
   return self
end

function Timer:resume()
   if not self._running then
      self._running = true
      self._start = {now()}
   end
   return self
end

function Timer:isRunning() return self._running end

-- seconds elapsed while running: {real=, user=, sys=}
function Timer:time()
   local t = {real = self._acc.real, user = self._acc.user, sys = self._acc.sys}
   if self._running then
      local r, u, s = now()
      t.real = t.real + r - self._start[1]
      t.user = t.user + u - self._start[2]
      t.sys = t.sys + s - self._start[3]
   end
   return t
end

-- In a .t7 file a timer is its class name only, as nn makes Torch7 write it (torch/nn's
-- Profile.lua); one read back is a new timer, started.
function Timer:write(file)
end

function Timer:read(file, version)
   self._running = nil
   self:reset()
end

return Timer
