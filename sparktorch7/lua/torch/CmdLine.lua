-- torch.CmdLine: command-line options of Torch7 scripts (doc/cmdline.md).
--
--   local cmd = torch.CmdLine()
--   cmd:option('-seed', 123, 'initial random seed')
--   cmd:option('-verbose', false, 'print more')       -- a flag: given alone, it flips the default
--   cmd:argument('-model', 'the .t7 file to load')     -- positional, required
--   local params = cmd:parse(arg or {})
--
-- Embedded in Python, nothing here calls os.exit: a bad command line, and -h/--help after
-- printing the help, raise a Lua error instead.
local CmdLine = torch.class('torch.CmdLine')

function CmdLine:__init(argseparator, keyseparator)
   self.argseparator = argseparator or ','
   self.keyseparator = keyseparator or '='
   self.options = {}
   self.arguments = {}
   self.helplines = {}
   self.dateformat = nil
   self.silentio = false
end

local function checkName(fname, key)
   if type(key) ~= 'string' or key:sub(1, 1) ~= '-' or #key < 2 then
      error(string.format("<torch.CmdLine> %s: the name must be a string starting with '-', got %s",
         fname, tostring(key)), 3)
   end
   return key:gsub('^%-+', '')
end

function CmdLine:option(key, default, help, kind)
   local name = checkName('option', key)
   if self.options[key] or self.arguments[key] then
      error(string.format('<torch.CmdLine> option %s is defined twice', key), 2)
   end
   kind = kind or type(default)
   if default ~= nil and kind ~= 'number' and kind ~= 'string' and kind ~= 'boolean' then
      error(string.format('<torch.CmdLine> option %s: default must be a number, string or boolean, got %s',
         key, type(default)), 2)
   end
   self.options[key] = {key = key, name = name, default = default, help = help or '', type = kind}
   table.insert(self.helplines, self.options[key])
end

function CmdLine:argument(key, help, kind, default)
   local name = checkName('argument', key)
   if self.options[key] or self.arguments[key] then
      error(string.format('<torch.CmdLine> argument %s is defined twice', key), 2)
   end
   local a = {key = key, name = name, help = help or '', type = kind or 'string', default = default,
              index = #self.arguments + 1}
   self.arguments[key] = a
   self.arguments[#self.arguments + 1] = a
   table.insert(self.helplines, a)
end

function CmdLine:text(txt)
   table.insert(self.helplines, txt or '')
end

local function convert(spec, value, where)
   if spec.type == 'number' then
      local v = tonumber(value)
      if v == nil then
         error(string.format('<torch.CmdLine> %s expects a number, got %q', where, tostring(value)), 0)
      end
      return v
   elseif spec.type == 'boolean' then
      if value == 'true' then return true end
      if value == 'false' then return false end
      error(string.format("<torch.CmdLine> %s expects 'true' or 'false', got %q", where, tostring(value)), 0)
   end
   return value
end

-- Parse `arg` (a list of strings, as Lua's global `arg`); returns the table of values.
function CmdLine:parse(arg)
   arg = arg or {}
   local params = {}
   for _, o in pairs(self.options) do params[o.name] = o.default end
   local positional = 0
   local i = 1
   while i <= #arg do
      local a = tostring(arg[i])
      if a == '-h' or a == '-help' or a == '--help' then
         self:help()
         error('<torch.CmdLine> help requested', 0)
      end
      local o = self.options[a] or self.options['-' .. a:gsub('^%-+', '')]
      if a:sub(1, 1) == '-' and tonumber(a) == nil then
         if not o then
            self:help()
            error(string.format('<torch.CmdLine> unknown option %s', a), 0)
         end
         if o.type == 'boolean' then
            -- a flag: alone it flips the default; an explicit true/false may follow
            local nxt = arg[i + 1]
            if nxt == 'true' or nxt == 'false' then
               params[o.name] = nxt == 'true'
               i = i + 1
            else
               params[o.name] = not o.default
            end
         else
            if arg[i + 1] == nil then
               error(string.format('<torch.CmdLine> option %s needs a value', a), 0)
            end
            params[o.name] = convert(o, arg[i + 1], 'option ' .. a)
            i = i + 1
         end
      else
         positional = positional + 1
         local spec = self.arguments[positional]
         if not spec then
            self:help()
            error(string.format('<torch.CmdLine> unexpected argument %q', a), 0)
         end
         params[spec.name] = convert(spec, a, 'argument ' .. spec.key)
      end
      i = i + 1
   end
   for k = positional + 1, #self.arguments do
      local spec = self.arguments[k]
      if spec.default == nil then
         self:help()
         error(string.format('<torch.CmdLine> missing argument %s', spec.key), 0)
      end
      params[spec.name] = spec.default
   end
   return params
end

-- "prefix,key=value,..." for the options that differ from their defaults (sorted by name)
function CmdLine:string(prefix, params, ignore)
   ignore = ignore or {}
   local parts = {prefix}
   local names = {}
   for _, o in pairs(self.options) do names[#names + 1] = o end
   table.sort(names, function(a, b) return a.name < b.name end)
   for _, o in ipairs(names) do
      local v = params[o.name]
      if not ignore[o.name] and v ~= nil and v ~= o.default then
         parts[#parts + 1] = o.name .. self.keyseparator .. tostring(v)
      end
   end
   return table.concat(parts, self.argseparator)
end

function CmdLine:help(arg0)
   local out = {}
   out[#out + 1] = 'Usage: ' .. (arg0 or 'script') .. ' [options]'
   for k = 1, #self.arguments do out[1] = out[1] .. ' <' .. self.arguments[k].name .. '>' end
   for _, line in ipairs(self.helplines) do
      if type(line) == 'string' then
         out[#out + 1] = line
      elseif line.index then
         out[#out + 1] = string.format('  %-22s %s', '<' .. line.name .. '>', line.help)
      else
         out[#out + 1] = string.format('  %-22s %s [%s]', line.key, line.help, tostring(line.default))
      end
   end
   print(table.concat(out, '\n'))
end

function CmdLine:silent()
   self.silentio = true
end

function CmdLine:addTime(name, format)
   format = format or '%F %T'
   if type(format) ~= 'string' then
      error('<torch.CmdLine> addTime: format must be a string', 2)
   end
   self.dateformat = format
   self.logname = name and ('[' .. name .. ']') or ''
end

-- Write the parameters to `file`, and from now on copy print() output there too.
function CmdLine:log(file, params)
   local f, err = io.open(file, 'w')
   if not f then error(string.format('<torch.CmdLine> cannot open log file %s: %s', tostring(file), tostring(err)), 2) end
   self.logFile = f
   local oldprint = self._oldprint or print
   self._oldprint = oldprint
   local cmd = self
   print = function(...)
      local parts = {}
      for k = 1, select('#', ...) do parts[k] = tostring((select(k, ...))) end
      local line = table.concat(parts, '\t')
      if not cmd.silentio then oldprint(line) end
      local prefix = cmd.dateformat and (os.date(cmd.dateformat) .. (cmd.logname or '') .. ': ') or ''
      f:write(prefix .. line .. '\n')
      f:flush()
   end
   print('[program started on ' .. os.date() .. ']')
   print('[command line arguments]')
   local keys = {}
   for k in pairs(params or {}) do keys[#keys + 1] = k end
   table.sort(keys, function(a, b) return tostring(a) < tostring(b) end)
   for _, k in ipairs(keys) do print(k, params[k]) end
   print('[----------------------]')
end

-- Stop logging: print() is restored and the log file closed.
function CmdLine:closeLog()
   if self._oldprint then print = self._oldprint; self._oldprint = nil end
   if self.logFile then self.logFile:close(); self.logFile = nil end
end

return CmdLine
