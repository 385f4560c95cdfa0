-- xlua: the helpers of Torch7's xlua package (torch/xlua) that scripts call: a progress
-- bar, a forgiving require, a table printer, named-argument unpacking with usage text,
-- string.split, formatted errors, the Profiler's stopwatches (xlua/Profiler.lua),
-- who/clearall. Like Torch7's, it sets the globals `xlua`, `xprint`, `xerror`, `xrequire`
-- and adds string.split, string.tosymbol, table.splice, table.prune.
--
-- xlua.progress and logs: on a terminal it draws Torch7's bar in place ('\r'), redrawn at
-- most 10 times a second and always at the end. When stdout is not a terminal (a Spark
-- executor's log, a pipe, a file) it never draws the bar: it writes one plain line when a
-- bar completes (current == goal), and while one runs at most one line every
-- xlua.progress_interval seconds (60 by default; 0 or false: only at completion), so a
-- loop calling it per sample adds a handful of lines to a log, not one per call.
local ffi = require 'ffi'
local sys = require 'sys'
require 'torch'

pcall(ffi.cdef, 'int isatty(int fd);')

local xlua = {}
xlua.string = {}

-- the globals that exist when xlua loads: xlua.clearall keeps them, xlua.who leaves them out
local protected = {}
for k in pairs(_G) do protected[k] = true end
protected.xlua = true      -- Torch7's sets the global xlua before it takes this list

-- -------------------------------------------------------------- printing
function xlua.print(obj, ...)
   if type(obj) == 'table' then
      local mt = getmetatable(obj)
      if type(mt) == 'table' and mt.__tostring__ then
         io.write(mt.__tostring__(obj))
      else
         local tos = tostring(obj)
         local with_usage = false
         if tos and not tos:find('table: ') then
            if type(rawget(obj, 'usage')) == 'string' then
               io.write(obj.usage, '\n\nFIELDS:\n')
               with_usage = true
            else
               io.write(tos .. ':\n')
            end
         end
         io.write('{')
         local sep = ''
         local idx = 1
         for k, v in pairs(obj) do
            if idx > 1 then io.write(',\n') end
            if type(v) == 'userdata' and not torch.typename(v) then
               io.write(sep .. '[' .. tostring(k) .. '] = <userdata>')
            else
               local s = tostring(v):gsub('\n', '\\n')
               if #s > 40 then
                  io.write(sep .. '[' .. tostring(k) .. '] = ' .. s:sub(1, 40) .. sys.COLORS.none .. ' ... ')
               else
                  io.write(sep .. '[' .. tostring(k) .. '] = ' .. s)
               end
            end
            sep = ' '
            idx = idx + 1
         end
         io.write('}')
      end
   else
      io.write(tostring(obj))
   end
   if select('#', ...) > 0 then
      io.write('    ')
      print(...)
   else
      io.write('\n')
   end
end

-- replicate everything io.write writes to a file as well
function xlua.log(file, append)
   local dir = paths.dirname(file)
   if not paths.dirp(dir) then os.execute('mkdir -p "' .. dir .. '"') end
   local f = io.open(file, append and 'a' or 'w')
   if f == nil then error('<xlua.log> cannot open ' .. tostring(file), 2) end
   local write = io.write
   io._write = write
   _G._print = _G.print
   _G.print = xlua.print
   io.write = function(...)
      write(...)
      for i = 1, select('#', ...) do f:write(tostring((select(i, ...)))) end
      f:flush()
   end
end

function xlua.clear(var)
   _G[var] = nil
   collectgarbage()
end

-- remove every global made since xlua loaded (a package's also from package.loaded)
function xlua.clearall()
   local names = {}
   for k in pairs(_G) do
      if not protected[k] then names[#names + 1] = k end
   end
   for _, k in ipairs(names) do
      _G[k] = nil
      if package.loaded[k] ~= nil then package.loaded[k] = nil end
   end
   collectgarbage()
end

-- print the packages and the variables made global since xlua loaded
function xlua.who()
   local libs, user = {}, {}
   for k, v in pairs(_G) do
      if package.loaded[k] ~= nil and k ~= '_G' then
         libs[#libs + 1] = k
      elseif not protected[k] then
         user[k] = v
      end
   end
   table.sort(libs, function(a, b) return tostring(a) < tostring(b) end)
   xlua.print('')
   xlua.print('Global Libs:')
   xlua.print(libs)
   xlua.print('')
   xlua.print('Global Vars:')
   xlua.print(user)
   xlua.print('')
end

-- -------------------------------------------------------------- time
-- '1D2h', '3m4s', '250ms': the two largest non-zero units, as Torch7
function xlua.formatTime(seconds)
   local floor = math.floor
   local days = floor(seconds / 86400); seconds = seconds - days * 86400
   local hours = floor(seconds / 3600); seconds = seconds - hours * 3600
   local minutes = floor(seconds / 60); seconds = seconds - minutes * 60
   local secs = floor(seconds); seconds = seconds - secs
   local millis = floor(seconds * 1000)
   local f, n = '', 1
   for _, part in ipairs({{days, 'D'}, {hours, 'h'}, {minutes, 'm'}, {secs, 's'}, {millis, 'ms'}}) do
      if part[1] > 0 and n <= 2 then f = f .. part[1] .. part[2]; n = n + 1 end
   end
   return f == '' and '0ms' or f
end
local formatTime = xlua.formatTime

-- -------------------------------------------------------------- progress
xlua.progress_interval = 60

local function stdout_is_tty()
   local ok, r = pcall(function() return ffi.C.isatty(1) end)
   return ok and r == 1
end

do
   local term = tonumber(os.getenv('COLUMNS') or '') or 80
   term = math.min(math.max(term, 40), 120)
   local running = false      -- a bar is in progress
   local previous = -1
   local t0, lastDraw, lastLine
   local t0Index

   local function stats(current, goal)
      local elapsed = sys.clock() - t0
      local step = current > t0Index and elapsed / (current - t0Index) or 0
      return elapsed, step, math.max(0, (goal - current) * step)
   end

   function xlua.progress(current, goal)
      if type(current) ~= 'number' or type(goal) ~= 'number' then
         error(string.format('<xlua.progress> expects (current, goal) as numbers, got (%s, %s)',
            type(current), type(goal)), 2)
      end
      if goal <= 0 then return end
      local barLength = term - 34
      local percent = math.floor(current * barLength / goal)
      local now = sys.clock()
      if not running or percent < previous then
         running, previous = true, -1
         t0, t0Index, lastDraw, lastLine = now, current, -math.huge, now
      end
      local done = current >= goal
      previous = percent
      if not stdout_is_tty() then
         local every = xlua.progress_interval
         if done or (every and every > 0 and now - lastLine >= every) then
            lastLine = now
            local elapsed, step, remaining = stats(current, goal)
            io.write(string.format('[%d/%d] %s | Step: %s\n', current, goal,
               done and ('Tot: ' .. formatTime(elapsed)) or ('ETA: ' .. formatTime(remaining)), formatTime(step)))
            io.flush()
         end
      elseif done or now - lastDraw >= 0.1 then
         lastDraw = now
         local elapsed, step, remaining = stats(current, goal)
         local bar = {}
         for i = 1, barLength do
            bar[i] = i < percent and '=' or (i == percent and '>' or '.')
         end
         local tm = (done and ' Tot: ' .. formatTime(elapsed) or ' ETA: ' .. formatTime(remaining))
            .. ' | Step: ' .. formatTime(step)
         io.write('\r [', table.concat(bar), '] ', current, '/', goal, tm, done and '\n' or '')
         io.flush()
      end
      if done then running = false end
   end
end

-- -------------------------------------------------------------- errors, require
function xlua.error(message, domain, usage)
   local c = sys.COLORS
   if domain then message = '<' .. domain .. '> ' .. tostring(message) end
   local msg = c.Red .. tostring(message) .. c.none
   if usage then msg = msg .. '\n' .. tostring(usage) end
   error(msg, 2)
end

function xlua.trycatch(try, catch)
   local ok, err = pcall(try)
   if not ok then catch(err) end
end

-- is a package on package.path / cpath? (true, its file) or (false, the path list)
function xlua.installed(name)
   local p = package.path .. ';' .. package.cpath
   for template in p:gmatch('[^;]+') do
      local path = template:gsub('%?', (name:gsub('%.', '/')))
      if paths.filep(path) then return true, path end
   end
   return false, p
end

-- require that warns and returns false instead of raising (luarocks installs are not done)
function xlua.require(name, luarocks, server)
   local ok, res = pcall(require, name)
   if not ok then
      print(res)
      print('warning: <' .. tostring(name) .. '> could not be loaded (is it installed?)')
      return false
   end
   return res
end

-- -------------------------------------------------------------- tables as strings
local table2string
local function val2str(v)
   if type(v) == 'string' then
      v = v:gsub('\n', '\\n')
      if v:gsub('[^\'"]', ''):match('^"+$') then return "'" .. v .. "'" end
      return '"' .. v:gsub('"', '\\"') .. '"'
   end
   return type(v) == 'table' and table2string(v) or tostring(v)
end

local function key2str(k)
   if type(k) == 'string' and k:match('^[_%a][_%a%d]*$') then return k end
   return '[' .. val2str(k) .. ']'
end

function table2string(tbl, newline)
   local result, done = {}, {}
   for k, v in ipairs(tbl) do
      result[#result + 1] = val2str(v)
      done[k] = true
   end
   local sep = newline and ' : ' or '='
   for k, v in pairs(tbl) do
      if not done[k] then result[#result + 1] = key2str(k) .. sep .. val2str(v) end
   end
   if newline then return '{\n   ' .. table.concat(result, '\n   ') .. '\n}' end
   return '{' .. table.concat(result, ',') .. '}'
end
xlua.table2string = table2string

-- -------------------------------------------------------------- usage and named arguments
function xlua.usage(funcname, description, example, ...)
   local c = sys.COLORS
   local banner = string.rep('+', 69)
   local out = {banner, '\n', c.Magenta, funcname, c.none, '\n'}
   if description then out[#out + 1] = '\n' .. description .. '\n' end
   out[#out + 1] = '\n' .. c.blue .. '> ' .. c.none .. 'usage:\n' .. c.cyan
   local args = {...}
   if args[1] and args[1].tabled then args = args[1].tabled end
   if args[1] and args[1].arg then
      out[#out + 1] = funcname .. '{\n'
      for _, p in ipairs(args) do
         local key = p.req and ('    ' .. p.arg .. ' = ' .. tostring(p.type))
            or ('    [' .. p.arg .. ' = ' .. tostring(p.type) .. ']')
         key = key .. string.rep(' ', 40 - #key)
         local line = key .. '-- ' .. tostring(p.help)
         if type(p.default) == 'table' then
            line = line .. '  [default = ' .. table2string(p.default) .. ']'
         elseif p.default ~= nil then
            line = line .. '  [default = ' .. tostring(p.default) .. ']'
         elseif p.defaulta then
            line = line .. '  [default == ' .. p.defaulta .. ']'
         end
         out[#out + 1] = line .. '\n'
      end
      out[#out + 1] = '}\n'
   else
      local idx = 1
      while true do
         local p
         out[#out + 1] = funcname .. '(\n'
         while true do
            p = args[idx]; idx = idx + 1
            if not p or p == '' then break end
            local key = p.req and ('    ' .. tostring(p.type)) or ('    [' .. tostring(p.type) .. ']')
            out[#out + 1] = key .. string.rep(' ', 40 - #key) .. '-- ' .. tostring(p.help) .. '\n'
         end
         out[#out + 1] = ')\n'
         if not p then break end
      end
   end
   out[#out + 1] = c.none
   if example then out[#out + 1] = '\n' .. c.cyan .. example .. c.none .. '\n' end
   out[#out + 1] = banner
   return table.concat(out)
end

-- xlua.unpack({...}, name, description, {arg=, type=, help=, req=, default=, defaulta=}, ...)
-- takes either one table of named arguments or the positional ones; returns the table of
-- all arguments (by name and by position, plus .usage) followed by their values in order
function xlua.unpack(args, funcname, description, ...)
   if type(args) ~= 'table' then
      error('<xlua.unpack> expects the arguments as a table ({...}), got ' .. type(args), 2)
   end
   local defs = {...}
   local usage = setmetatable({}, {__tostring = function()
      local example
      if #defs > 1 then
         example = funcname .. '{' .. defs[2].arg .. '=' .. tostring(defs[2].type) .. ', '
            .. defs[1].arg .. '=' .. tostring(defs[1].type) .. '}\n'
            .. funcname .. '(' .. tostring(defs[1].type) .. ', ...)'
      end
      return xlua.usage(funcname, description, example, {tabled = defs})
   end})
   local iargs = {}
   if #args == 0 and next(args) == nil then
      print(usage)
      xlua.error('missing arguments', funcname)
   elseif #args == 1 and type(args[1]) == 'table' and #args[1] == 0 and torch.typename(args[1]) == nil then
      iargs = args[1]
   else
      for i = 1, #defs do iargs[defs[i].arg] = args[i] end
   end
   local dargs = {}
   for i, def in ipairs(defs) do
      if def.req and iargs[def.arg] == nil then
         print(sys.COLORS.Red .. 'missing argument: ' .. def.arg .. sys.COLORS.none)
         print(usage)
         xlua.error('missing argument: ' .. def.arg, funcname)
      end
      local v = iargs[def.arg]
      if v == nil then v = def.default end
      if v == nil and def.defaulta then v = dargs[def.defaulta] end
      dargs[def.arg] = v
      dargs[i] = v
   end
   dargs.usage = usage
   return dargs, unpack(dargs, 1, #defs)
end

-- the same, setting each named argument as a field of object
function xlua.unpack_class(object, args, funcname, description, ...)
   local dargs = xlua.unpack(args, funcname, description, ...)
   for k, v in pairs(dargs) do
      if type(k) ~= 'number' then object[k] = v end
   end
   return dargs
end

function xlua.usage_module(module, name, description)
   local c = sys.COLORS
   local str = c.magenta .. string.rep('+', 69) .. '\nPACKAGE:\n' .. name .. '\n'
   if description then str = str .. '\nDESC:\n' .. description .. '\n' end
   str = str .. string.rep('+', 70) .. c.none
   local mt = getmetatable(module) or {}
   setmetatable(module, mt)
   mt.__tostring = function() return str end
   return str
end

-- -------------------------------------------------------------- strings and tables
-- split str on the Lua pattern pat; an empty first piece is dropped, as in xlua
function xlua.string.split(str, pat)
   if type(str) ~= 'string' then
      error('<string.split> expects a string, got ' .. type(str), 2)
   end
   if type(pat) ~= 'string' or pat == '' then
      error('<string.split> expects a non-empty separator pattern, got ' .. tostring(pat), 2)
   end
   return sys.split(str, pat)
end

function xlua.string.tosymbol(str)
   local f, err = loadstring('return ' .. str)
   if not f then error(err, 2) end
   local ok, result = pcall(f)
   if not ok then error(result, 2) end
   if not result then error('symbol "' .. str .. '" does not exist', 2) end
   return result
end

function xlua.splice(tbl, start, length)
   length, start = length or 1, start or 1
   local stop = start + length
   local kept, removed = {}, {}
   for i, v in ipairs(tbl) do
      if i < start or i >= stop then kept[#kept + 1] = v else removed[#removed + 1] = v end
   end
   return kept, removed
end

function xlua.prune(tbl, hashfunc, merge)
   local hashes = {}
   local hash = hashfunc or function(a) return a end
   for _, v in ipairs(tbl) do
      local h = hash(v)
      if merge and hashes[h] ~= nil then hashes[h] = merge(v, hashes[h]) else hashes[h] = v end
   end
   local out = {}
   for _, v in pairs(hashes) do out[#out + 1] = v end
   return out
end

-- options from environment variables: xlua.envparams{learningRate = 1e-2, nesterov = true}
function xlua.envparams(default)
   local params = {}
   for k, v in pairs(default) do
      params[k] = v
      local s = os.getenv(k)
      if s ~= nil then
         local new = s
         if type(v) == 'number' then new = tonumber(s) end
         if type(v) == 'boolean' then
            if s == 'false' or s == 'False' then new = false
            elseif s == 'true' or s == 'True' then new = true end
         end
         if new == nil then
            error(string.format('<xlua.envparams> %s=%q is not a %s', k, s, type(v)), 2)
         end
         params[k] = new
      end
   end
   return params
end

string.split = string.split or xlua.string.split
string.tosymbol = string.tosymbol or xlua.string.tosymbol
table.splice = table.splice or xlua.splice
table.prune = table.prune or xlua.prune

rawset(_G, 'xlua', xlua)
require 'xlua.OptionParser'
require 'xlua.Profiler'
rawset(_G, 'xprint', xlua.print)
rawset(_G, 'xerror', xlua.error)
rawset(_G, 'xrequire', xlua.require)
return xlua
