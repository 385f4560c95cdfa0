-- Loaded by the extension when a LuaState is created (sparktorch7/_stdio.pxi), before
-- package.path is set: not a module to require. Its one argument is emit(kind, ...), the
-- C function that writes to Python's sys.stdout/sys.stderr. It routes io.write,
-- io.stdout:write, io.stderr:write and their flushes through emit.
local emit = ...   -- emit(kind, values...): write to 2 stdout, 3 stderr, 4/5 flush them
local select, type, error, format = select, type, error, string.format
local rawequal, rawget = rawequal, rawget
local stdout, stderr = io.stdout, io.stderr
local io_write, io_flush, io_output = io.write, io.flush, io.output
local methods = rawget(debug.getmetatable(stdout), '__index')
local file_write, file_flush = methods.write, methods.flush

-- io.output() as a variable: calling the C function each time would stop the JIT here
local current = io_output()
io.output = function(...)
  local f = io_output(...)
  current = f
  return f
end

-- a write takes strings and numbers (emit formats numbers as Lua does, %.14g); emit
-- checks them all before writing and returns the position of one that is neither
local function bad_argument(i, v)
  error(format("bad argument #%d to 'write' (string expected, got %s)", i, type(v)), 3)   -- (the caller's line)
end

io.write = function(...)
  if rawequal(current, stdout) or rawequal(current, stderr) then
    local bad = emit(rawequal(current, stdout) and 2 or 3, ...)
    if bad then bad_argument(bad, (select(bad, ...))) end
    return true
  end
  return io_write(...)
end

methods.write = function(f, ...)
  if rawequal(f, stdout) or rawequal(f, stderr) then
    local bad = emit(rawequal(f, stdout) and 2 or 3, ...)
    if bad then bad_argument(bad, (select(bad, ...))) end
    return true
  end
  return file_write(f, ...)
end

io.flush = function()
  if rawequal(current, stdout) then emit(4) return true end
  if rawequal(current, stderr) then emit(5) return true end
  return io_flush()
end

methods.flush = function(f)
  if rawequal(f, stdout) then emit(4) return true end
  if rawequal(f, stderr) then emit(5) return true end
  return file_flush(f)
end
