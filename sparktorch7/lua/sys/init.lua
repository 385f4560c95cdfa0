-- sys: Torch7's small system package (torch/sys): wall clock, tic/toc, sleep, running a
-- shell command for its output, the OS name, the running file's folder, terminal colours.
-- Like Torch7's, it sets the global `sys`. POSIX only, through LuaJIT's FFI.
local ffi = require 'ffi'
local paths = require 'paths'

for _, decl in ipairs({
   'struct sparktorch7_sys_timeval { int64_t tv_sec; int64_t tv_usec; };',
   'int gettimeofday(struct sparktorch7_sys_timeval *tv, void *tz);',
   'int usleep(unsigned int usec);',
}) do
   pcall(ffi.cdef, decl)
end
local C = ffi.C

local sys = {}

local tv = ffi.new('struct sparktorch7_sys_timeval')
-- seconds since the epoch, to the microsecond (gettimeofday, as Torch7's libsys)
function sys.clock()
   C.gettimeofday(tv, nil)
   return tonumber(tv.tv_sec) + tonumber(tv.tv_usec) / 1e6
end

local function checknumber(fname, v, what)
   if type(v) ~= 'number' then
      error(string.format('<sys.%s> expects %s as a number, got %s', fname, what, type(v)), 3)
   end
end

-- sleep for usec microseconds (1 if not a number, as libsys)
function sys.usleep(usec)
   if type(usec) ~= 'number' then usec = 1 end
   if usec > 0 then C.usleep(math.min(usec, 4294967295)) end
end

function sys.sleep(seconds)
   checknumber('sleep', seconds, 'seconds')
   -- usleep takes less than ~71 minutes per call
   while seconds > 3600 do C.usleep(3600e6); seconds = seconds - 3600 end
   sys.usleep(seconds * 1e6)
end

-- matlab-like timer: toc() is the seconds since the last tic()
local t0
function sys.tic() t0 = sys.clock() end
function sys.toc(verbose)
   if t0 == nil then error('<sys.toc> called before sys.tic()', 2) end
   local dt = sys.clock() - t0
   if verbose then print(dt) end
   return dt
end

local function trim(s) return (s:gsub('^%s*', ''):gsub('%s*$', '')) end

-- run a shell command and return its output (stdout and stderr), trimmed
function sys.execute(cmd)
   if type(cmd) ~= 'string' then
      error('<sys.execute> expects a shell command as a string, got ' .. type(cmd), 2)
   end
   local f = io.popen(cmd .. ' 2>&1')
   if f == nil then error('<sys.execute> cannot run ' .. cmd, 2) end
   local s = f:read('*a')
   f:close()
   return trim(s)
end

-- the same, through a temporary file; readwhat as file:read's format ('*all')
function sys.fexecute(cmd, readwhat)
   if type(cmd) ~= 'string' then
      error('<sys.fexecute> expects a shell command as a string, got ' .. type(cmd), 2)
   end
   local tmp = os.tmpname()
   os.execute(cmd .. ' >' .. tmp .. ' 2>&1')
   local f = assert(io.open(tmp))
   local s = f:read(readwhat or '*all') or ''
   f:close()
   os.remove(tmp)
   return trim(s)
end

-- 'linux', 'macos', 'windows' or '?'
function sys.uname()
   if ffi.os == 'Windows' then return 'windows' end
   if ffi.os == 'Linux' then return 'linux' end
   if ffi.os == 'OSX' then return 'macos' end
   return '?'
end
sys.OS = sys.uname()

local function lister(flags)
   return function(d) return sys.execute('ls ' .. flags .. (d or ' ')) end
end
sys.ls, sys.ll, sys.la, sys.lla = lister(''), lister('-l '), lister('-a '), lister('-la ')

-- Torch7's install prefix, from the interpreter's name in `arg`; '' inside sparktorch7
local function find_prefix()
   local a = rawget(_G, 'arg')
   if type(a) ~= 'table' then return '' end
   for i, v in pairs(a) do
      if type(i) == 'number' and i <= 0 and type(v) == 'string' then
         local name = paths.basename(v)
         if name == 'luajit' or name == 'lua' then
            local bin = paths.dirname(v)
            return paths.basename(bin) == 'bin' and paths.dirname(bin) or bin
         end
      end
   end
   return ''
end
sys.prefix = find_prefix()

-- the folder and the name of the Lua file calling it
function sys.fpath()
   local src = debug.getinfo(2, 'S').source
   local path = src:sub(1, 1) == '@' and src:sub(2) or src
   if path:sub(1, 1) ~= '/' then path = paths.concat(paths.cwd(), path) end
   return paths.dirname(path), paths.basename(path)
end

-- split str on the pattern pat, dropping an empty first piece (as string.split of xlua)
function sys.split(str, pat)
   if type(str) ~= 'string' or type(pat) ~= 'string' then
      error('<sys.split> expects (string, pattern), got (' .. type(str) .. ', ' .. type(pat) .. ')', 2)
   end
   local t = {}
   local last = 1
   local s, e, cap = str:find('(.-)' .. pat, 1)
   while s do
      if s ~= 1 or cap ~= '' then t[#t + 1] = cap end
      if e < s then     -- an empty match: step one byte, or the loop never ends
         if e >= #str then last = #str + 1; break end
         e = s
      end
      last = e + 1
      s, e, cap = str:find('(.-)' .. pat, last)
   end
   if last <= #str then t[#t + 1] = str:sub(last) end
   return t
end

function sys.isNaN(x) return x ~= x end

sys.COLORS = {
   none = '\27[0m',
   black = '\27[0;30m', red = '\27[0;31m', green = '\27[0;32m', yellow = '\27[0;33m',
   blue = '\27[0;34m', magenta = '\27[0;35m', cyan = '\27[0;36m', white = '\27[0;37m',
   Black = '\27[1;30m', Red = '\27[1;31m', Green = '\27[1;32m', Yellow = '\27[1;33m',
   Blue = '\27[1;34m', Magenta = '\27[1;35m', Cyan = '\27[1;36m', White = '\27[1;37m',
   _black = '\27[40m', _red = '\27[41m', _green = '\27[42m', _yellow = '\27[43m',
   _blue = '\27[44m', _magenta = '\27[45m', _cyan = '\27[46m', _white = '\27[47m',
}

-- path helpers (sys had them before paths took them over; scripts still call them)
sys.dirname, sys.concat, sys.basename = paths.dirname, paths.concat, paths.basename
sys.filep, sys.dirp = paths.filep, paths.dirp
sys.pwd = paths.cwd

rawset(_G, 'sys', sys)
return sys
