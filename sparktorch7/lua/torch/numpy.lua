-- torch._np: calls from the torch runtime into numpy-backed Python functions.
-- Tensors cross as ndarray views of the same memory; numbers as numbers.
local py = py
local numpy = {}
local functions, modules = {}, {}

-- A kernel's error about its arguments (a NumPy ValueError on shapes, ...) is
-- not left to travel as a Python exception: it becomes a Lua error naming the
-- nn module that called the kernel (the nearest `self` on the stack that is
-- an nn.Module), the kernel and the arguments' types and shapes. Other Python
-- exceptions (MemoryError, KeyboardInterrupt) pass through as they are.
local ARGUMENT_ERRORS = {
  ValueError = true, IndexError = true, TypeError = true, FloatingPointError = true,
  ZeroDivisionError = true, OverflowError = true, KeyError = true, AttributeError = true,
}

local function describe(v)
  if torch.isTensor(v) then
    local t = torch.type(v):gsub("^torch%.", "")
    if v:dim() == 0 then return t .. " (empty)" end
    return t .. " " .. table.concat(v:size():totable(), "x")
  elseif type(v) == "string" then
    return string.format("%q", v)
  end
  return tostring(v)
end

local function callerModule()
  if not torch.isTypeOf then return nil end
  for level = 3, 40 do
    if not debug.getinfo(level, "f") then break end
    local i = 1
    while true do
      local name, value = debug.getlocal(level, i)
      if not name then break end
      if name == "self" and type(value) == "table" and torch.isTypeOf(value, "nn.Module") then
        return torch.type(value)
      end
      i = i + 1
    end
  end
end

-- From which size on the torch runtime gives an operation to NumPy (sparktorch7._ops)
-- rather than run its LuaJIT loop, by op: below it the trip to Python (some 13 us) costs
-- more than the loop saves. Only floating tensors go. The nn modules keep theirs in
-- nn/kernels.lua (nn.kernels.thresholds); torch, below nn, keeps its own here.
numpy.thresholds = {
  -- pointwise TensorMath (math_pointwise.lua), in elements of the result, by the _ops
  -- name of the operation; `default` for the ones without an entry (pow among them)
  pointwise = {
    default = 32768,
    -- transcendental ops cost a LuaJIT loop far more per element (an RNN's gates:
    -- tanh/sigmoid over batch x hidden, a few thousand elements per step)
    tanh = 4096, sigmoid = 4096,
    -- float arithmetic crosses over near 4096 elements (a LuaJIT loop ~3.5 ns per
    -- float element, the numpy call ~13 us plus ~0.2 ns per element)
    add = 8192, csub = 8192, mul = 8192, div = 8192,
    cadd = 8192, ccsub = 8192, cmul = 8192, cdiv = 8192,
  },
  -- reductions (sum, mean, ...; math_reduce.lua), in elements
  reduce = 32768,
  -- sort and the orderings found by sorting (median, kthvalue, ...), in elements:
  -- sorting in Lua costs far more per element, so numpy pays off much earlier
  sort = 512,
  -- products (mm, mv, addmm, bmm, ...; math_blas.lua), in multiply-adds
  product = 4096,
  -- torch.multinomial with replacement: the binary searches go to np.searchsorted
  -- from this many draws over this many categories on
  multinomial = {draws = 256, categories = 64},
}

local unpack = unpack or table.unpack
local function pack(...)
  return {n = select("#", ...), ...}
end

local function kernelFailed(key, err, ...)
  local text = tostring(err)
  local cls = type(err) == "userdata" and text:match("^Python exception: ([%w_]+):")
  if not (cls and ARGUMENT_ERRORS[cls]) then
    error(err, 0)
  end
  local args = {}
  for i = 1, select("#", ...) do
    args[i] = describe((select(i, ...)))
  end
  local who = callerModule()
  error(string.format("<%s> the NumPy kernel %s failed on (%s): %s", who or key, key,
                      table.concat(args, ", "), (text:gsub("^Python exception: ", ""))), 0)
end

-- The Python function modname.name (looked up once), for callers that map its errors themselves.
function numpy.lookup(modname, name)
  local key = modname .. ":" .. name
  local f = functions[key]
  if f == nil then
    local m = modules[modname]
    if m == nil then
      m = py.import(modname)
      modules[modname] = m
    end
    f = m[name]
    functions[key] = f
  end
  return f, key
end

-- modname.name as a Lua function, bound once: it maps the kernel's argument errors
-- as callmod does. A Python call gives exactly one result, and so does the function.
function numpy.bind(modname, name)
  local f, key = numpy.lookup(modname, name)
  return function(...)
    local ok, r = pcall(f, ...)
    if not ok then
      kernelFailed(key, r, ...)
    end
    return r
  end
end

function numpy.callmod(modname, name, ...)
  local f, key = numpy.lookup(modname, name)
  -- the kernel's results exactly as it returns them (their number matters to callers)
  local r = pack(pcall(f, ...))
  if not r[1] then
    kernelFailed(key, r[2], ...)
  end
  return unpack(r, 2, r.n)
end

function numpy.call(name, ...)
  return numpy.callmod("sparktorch7._ops", name, ...)
end

return numpy
