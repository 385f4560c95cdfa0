-- xlua.OptionParser: the command-line parser of Torch7's xlua (modelled on Python's
-- optparse): op = xlua.OptionParser('%prog [options]'); op:option{'-s', '--save',
-- action='store', dest='save', help='...', default=...}; local opt, args = op:parse().
-- It reads the global `arg` (a script's arguments). Where Torch7's calls os.exit (a bad
-- option, --help), this one raises an error instead: exiting would end the Python process
-- (a Spark executor) that embeds the Lua state.
local xlua = rawget(_G, 'xlua') or {}

local OptionParser = {}
OptionParser.__index = OptionParser

function xlua.OptionParser(usage)
   local self = setmetatable({usage = usage or '%prog [options]', option_descriptions = {}, option_of = {}},
                             OptionParser)
   self:option{'-h', '--help', action = 'store_true', dest = 'help', help = 'show this help message and exit'}
   return self
end

function OptionParser:fail(msg)
   io.stderr:write(msg .. '\n')
   self:help()
   error('<xlua.OptionParser> ' .. msg, 2)
end

function OptionParser:option(desc)
   if type(desc) ~= 'table' or type(desc[1]) ~= 'string' or type(desc.dest) ~= 'string' then
      error("<xlua.OptionParser> option expects {'-x', '--long', dest = 'name', ...}", 2)
   end
   self.option_descriptions[#self.option_descriptions + 1] = desc
   for _, flag in ipairs(desc) do self.option_of[flag] = desc end
end

function OptionParser:parse(options)
   options = options or {}
   local args = {}
   for _, d in ipairs(self.option_descriptions) do
      if d.default ~= nil and options[d.dest] == nil then options[d.dest] = d.default end
   end
   local argv = rawget(_G, 'arg')
   if type(argv) ~= 'table' then
      options.__main__ = false
      self.options = options
      return options, args
   end
   options.__main__ = true
   -- "--input=file" is "--input", "file"
   local a = {}
   for i = 1, #argv do
      local flag, val = tostring(argv[i]):match('^(%-%-[%w_-]+)=(.*)$')
      if flag then a[#a + 1] = flag; a[#a + 1] = val else a[#a + 1] = argv[i] end
   end
   local i = 1
   while i <= #a do
      local v = a[i]
      local d = self.option_of[v]
      if d then
         local action, val = d.action, d.default
         if action == nil or action == 'store' then
            i = i + 1
            val = a[i] or d.default
            if val == nil then self:fail('option requires an argument ' .. v) end
         elseif action == 'store_true' then
            val = true
         elseif action == 'store_false' then
            val = false
         end
         options[d.dest] = val
      else
         if tostring(v):match('^%-') then self:fail('invalid option ' .. v) end
         args[#args + 1] = v
      end
      i = i + 1
   end
   for flag, d in pairs(self.option_of) do
      if d.req and options[d.dest] == nil then self:fail('option ' .. flag .. ' requires an argument') end
   end
   self.options = options
   if options.help then
      self:help()
      error('<xlua.OptionParser> --help: usage printed', 2)
   end
   return options, args
end

function OptionParser:flags(d)
   local out = {}
   for _, flag in ipairs(d) do
      local tail = ''
      if d.action == nil or d.action == 'store' then
         local meta = d.metavar or d.dest:upper()
         tail = #flag == 2 and (' ' .. meta) or ('=' .. meta)
      end
      out[#out + 1] = flag .. tail
   end
   return table.concat(out, ', ')
end

function OptionParser:help()
   local argv = rawget(_G, 'arg')
   local prog = type(argv) == 'table' and argv[0] or 'THISPROG'
   io.stdout:write('Usage: ' .. self.usage:gsub('%%prog', tostring(prog)) .. '\n\nOptions:\n')
   local pad = 0
   for _, d in ipairs(self.option_descriptions) do pad = math.max(pad, #self:flags(d)) end
   for _, d in ipairs(self.option_descriptions) do
      local def = d.req and ' [REQUIRED]' or (d.default ~= nil and ' [default = ' .. tostring(d.default) .. ']' or '')
      local f = self:flags(d)
      io.stdout:write('  ' .. f .. string.rep(' ', pad - #f) .. '  ' .. tostring(d.help or '') .. def .. '\n')
   end
end

-- the parsed options, one per line ('<script> configuration:' first)
function OptionParser:summarize()
   local argv = rawget(_G, 'arg')
   local name = (type(argv) == 'table' and argv[0] or 'interpreted.lua'):gsub('%.lua$', '')
   local lines = {'<' .. name .. '> configuration:'}
   local keys = {}
   for k in pairs(self.options or {}) do keys[#keys + 1] = tostring(k) end
   table.sort(keys)
   for _, k in ipairs(keys) do lines[#lines + 1] = ' + ' .. k .. ' = ' .. tostring(self.options[k]) end
   local s = table.concat(lines, '\n')
   print(s)
   return s
end

return xlua.OptionParser
