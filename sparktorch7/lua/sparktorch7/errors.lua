-- Structured error values: errors.raise(kind, msg, level) raises a table
-- {kind = , message = , position = , notes = } instead of a string, so that the Python side
-- maps the kind to its exception class through one table (sparktorch7/_errors.pxi) rather
-- than by reading the message. Kinds: 't7format' (T7FormatError), 'memory'
-- (LuaMemoryError), 'timeout' (LuaTimeoutError); any other kind is a plain LuaError.
--
-- Lua code that catches such an error keeps working as with a string: tostring(err) and
-- err .. '' give the classic "chunk:line: msg" text, err:match(p), err:find(p), err:gsub(...)
-- (any string method) run on that text, and error(err, 0) raises it again unchanged.
-- string.match(err, p) called as a function does not accept a table: use tostring(err).
-- errors.note(err, text) adds context, which Python shows as the exception's notes.
local errors = {}

local Error = {}
errors.Error = Error          -- the metatable of every structured error value

local function text(e)
  return rawget(e, 'position') .. rawget(e, 'message')
end

Error.__tostring = text
function Error.__concat(a, b)
  return tostring(a) .. tostring(b)
end

-- err:method(...) is string.method(tostring(err), ...); one wrapper per method name
local methods = {}
function Error.__index(e, key)
  local m = methods[key]
  if m == nil then
    local f = string[key]
    if type(f) ~= 'function' then return nil end
    m = function(self, ...) return f(text(self), ...) end
    methods[key] = m
  end
  return m
end

-- The "short_src:line: " that error(msg, level) would put in front of msg if it were
-- called instead of errors.new (where's one caller): level 1 is new's caller, 2 that
-- function's caller; "" for level 0 or a C function.
local function where(level)
  if level <= 0 then return '' end
  local info = debug.getinfo(level + 2, 'Sl')
  if info == nil or info.currentline <= 0 then return '' end
  return info.short_src .. ':' .. info.currentline .. ': '
end

-- A new error value (not raised): level as error()'s, 1 (the default) for the caller.
function errors.new(kind, msg, level)
  if type(kind) ~= 'string' or type(msg) ~= 'string' then
    error(string.format('<sparktorch7.errors> new(kind, msg [, level]) expects two strings, got %s and %s',
                        type(kind), type(msg)), 2)
  end
  return setmetatable({kind = kind, message = msg, position = where(level or 1)}, Error)
end

-- Raise a structured error: level as error()'s (1, the default: the caller's position;
-- 2: its caller's; 0: none).
function errors.raise(kind, msg, level)
  level = level or 1
  local e = errors.new(kind, msg, level > 0 and level + 1 or 0)
  error(e, 0)
end

-- The kind of a structured error value, or nil for any other value (a string...).
function errors.kind(v)
  if type(v) == 'table' and getmetatable(v) == Error then return rawget(v, 'kind') end
  return nil
end

-- Add a line of context to a structured error (Python adds it with add_note); other
-- values are returned unchanged. Returns the value, to raise it again.
function errors.note(v, line)
  if errors.kind(v) ~= nil then
    local notes = rawget(v, 'notes')
    if notes == nil then
      notes = {}
      rawset(v, 'notes', notes)
    end
    notes[#notes + 1] = tostring(line)
  end
  return v
end

return errors
