-- xlua.Profiler: the named stopwatches of Torch7's xlua. p = xlua.Profiler([mode [, verbose]])
-- (mode 'off' silences its printing); p:start(name [, 'fps']) starts or restarts a watch,
-- p:lap(name [, divider]) stores and returns the wall (sys.clock) and CPU (os.clock)
-- seconds since its start, each divided by divider; p:real/p:cpu one of them; p:format,
-- p:print, p:formatAll, p:printAll report them in xlua's '$ real | cpu' lines (a watch
-- started with 'fps' adds its rate). displayAll drew on a Qt painter, which does not exist
-- here: it raises.
local sys = require 'sys'
local xlua = rawget(_G, 'xlua') or {}

local Profiler = {}

local function event(self, fname, name)
   local e = self.events[name]
   if e == nil then
      error(string.format('<xlua.Profiler:%s> no event named %s: call start(%s) first',
         fname, tostring(name), tostring(name)), 3)
   end
   return e
end

local function checkDivider(fname, divider)
   if divider ~= nil and type(divider) ~= 'number' then
      error(string.format('<xlua.Profiler:%s> expects the divider as a number, got %s', fname, type(divider)), 3)
   end
end

function xlua.Profiler(mode, verbose)
   if mode ~= nil and type(mode) ~= 'string' then
      error("<xlua.Profiler> expects mode as a string ('on' or 'off'), got " .. type(mode), 2)
   end
   -- a plain table holding the methods, as Torch7's (scripts may add fields to it)
   local self = {events = {}, list = {}, off = (mode == 'off'), verbose = verbose or false}
   for k, f in pairs(Profiler) do self[k] = f end
   return self
end

function Profiler:start(name, fps)
   if name == nil then error('<xlua.Profiler:start> expects an event name', 2) end
   local e = self.events[name]
   if e == nil then
      e = {name = name}
      self.events[name] = e
      self.list[#self.list + 1] = e
   end
   e.cpu, e.real = os.clock(), sys.clock()
   if fps == 'fps' then e.fps = true end
   if self.verbose then io.write('<' .. tostring(name) .. '>'); io.flush() end
end

function Profiler:setColor(name, color)
   event(self, 'setColor', name).color = color
end

function Profiler:cpu(name, divider)
   checkDivider('cpu', divider)
   local e = event(self, 'cpu', name)
   local delta = os.clock() - e.cpu
   if divider then delta = delta / divider end
   e.cpud = delta
   return delta
end

function Profiler:real(name, divider)
   checkDivider('real', divider)
   local e = event(self, 'real', name)
   local delta = sys.clock() - e.real
   if divider then delta = delta / divider end
   e.reald = delta
   return delta
end

-- (wall, cpu) seconds since start(name)
function Profiler:lap(name, divider)
   event(self, 'lap', name)
   checkDivider('lap', divider)
   local r = self:real(name, divider)
   local c = self:cpu(name, divider)
   if self.verbose then io.write('\r'); self:print(name) end
   return r, c
end

local function line(e, withName)
   local s = string.format('$ real %f | cpu %f <%s>', e.reald or -1, e.cpud or -1, tostring(e.name))
   if withName and e.fps then s = s .. string.format(' = %f fps', 1 / (e.reald or -1)) end
   return s
end

function Profiler:format(name)
   local e = event(self, 'format', name)
   return string.format('$ real | cpu: %f | %f <%s>', e.reald or -1, e.cpud or -1, tostring(name))
end

function Profiler:print(name)
   if not self.off then print(self:format(name)) end
end

function Profiler:formatAll()
   local out = {'$ profiler report:'}
   for _, e in ipairs(self.list) do out[#out + 1] = line(e, true) end
   return table.concat(out, '\n')
end

function Profiler:printAll()
   if not self.off then print(self:formatAll()) end
end

function Profiler:displayAll()
   error('<xlua.Profiler:displayAll> draws on a Qt painter (qtlua), which sparktorch7 does not have: '
      .. 'use printAll() or formatAll()', 2)
end

return xlua.Profiler
