-- torch.class and the type utilities of Torch7 (doc/utility.md): classes with
-- parents, constructors, factories, typename, isTypeOf, getmetatable.
local torch = torch

local metatables = {}      -- typename -> metatable (class table)
local constructors = {}    -- typename -> constructor table
torch._metatables = metatables

-- Metamethods dispatched to Torch7-style methods `__xxx__` found through inheritance.
local dispatched = {
  __tostring = "__tostring__", __call = "__call__", __len = "__len__",
  __add = "__add__", __sub = "__sub__", __mul = "__mul__", __div = "__div__",
  __mod = "__mod__", __pow = "__pow__", __unm = "__unm__", __concat = "__concat__",
  __eq = "__eq__", __lt = "__lt__", __le = "__le__",
}

local function install_dispatch(mt)
  for meta, method in pairs(dispatched) do
    if meta == "__tostring" then
      mt.__tostring = function(self)
        local f = self.__tostring__
        if f then return f(self) end
        return string.format("%s", mt.__typename)
      end
    elseif meta == "__call" then
      mt.__call = function(self, ...)
        local f = self.__call__
        if not f then error("attempt to call a " .. (mt.__typename or "torch object"), 2) end
        return f(self, ...)
      end
    elseif meta == "__eq" then
      -- without __eq__, torch objects compare by identity (luaT's isequal)
      mt.__eq = function(a, b)
        local f = type(a) == "table" and a.__eq__ or (type(b) == "table" and b.__eq__)
        if f then return f(a, b) end
        return rawequal(a, b)
      end
    else
      mt[meta] = function(a, b)
        local self = (type(a) == "table" and getmetatable(a) and a[method]) and a or b
        local f = type(self) == "table" and self[method]
        if not f then
          torch._error(string.format("<%s> does not define %s", mt.__typename, method))
        end
        return f(a, b)
      end
    end
  end
end

-- Resolve a dotted name to its table path, creating packages on the way.
local function set_path(name, value)
  local parent, last = _G, nil
  for part in name:gmatch("[^%.]+") do
    if last then
      if parent[last] == nil then parent[last] = {} end
      parent = parent[last]
    end
    last = part
  end
  parent[last] = value
end

local function get_path(name)
  local v = _G
  for part in name:gmatch("[^%.]+") do
    if type(v) ~= "table" then return nil end
    v = v[part]
  end
  return v
end

-- Method hooks: functions hook(className, key, value) -> value (or nil to keep value), run
-- when a method is assigned to a class table (`function Class:updateOutput ... end`); they
-- may substitute a function computing the same thing faster (lua/nn/fastpaths.lua).
local methodHooks = {}
torch._methodHooks = methodHooks

local function classMeta(name, parent)
  return {
    __index = parent,
    __newindex = function(t, k, v)
      if type(v) == "function" then
        for _, hook in ipairs(methodHooks) do
          v = hook(name, k, v) or v
        end
      end
      rawset(t, k, v)
    end,
  }
end

--- torch.class(name [, parentName [, module]]): returns the class metatable and its parent's.
function torch.class(name, parentName, module)
  if type(name) ~= "string" then
    error("<torch.class> class name must be a string, got " .. type(name), 2)
  end
  if metatables[name] and not torch._allowRedefine then
    -- Torch7 raises here; we allow redefinition to keep re-run scripts working
  end
  if module == nil and type(parentName) == "table" and parentName.__typename == nil then
    parentName, module = nil, parentName     -- torch.class(name, moduleTable)
  end
  if module ~= nil and type(module) ~= "table" then
    torch._error("<torch.class> expects (name [, parentName] [, moduleTable]), got a " .. type(module) .. " module")
  end
  local parent = nil
  if parentName ~= nil then
    if type(parentName) == "table" then parentName = parentName.__typename end
    parent = metatables[parentName]
    if not parent then
      error(string.format("<torch.class> parent class '%s' of '%s' does not exist", tostring(parentName), name), 2)
    end
  end
  local mt = metatables[name] or {}
  mt.__typename = name
  mt.__index = mt
  install_dispatch(mt)
  setmetatable(mt, classMeta(name, parent))
  metatables[name] = mt

  local ctor = constructors[name] or {}
  setmetatable(ctor, {
    __index = mt,
    __newindex = mt,
    __call = function(_, ...)
      local self = setmetatable({}, mt)
      local init = self.__init
      if init then init(self, ...) end
      return self
    end,
    __tostring = function() return name end,
    __metatable = mt,
  })
  constructors[name] = ctor
  if module then
    module[name:match("[^%.]+$")] = ctor
  else
    set_path(name, ctor)
  end
  return mt, parent
end

function torch.getmetatable(name)
  if type(name) ~= "string" then
    error("<torch.getmetatable> expects a class name (string), got " .. type(name), 2)
  end
  return metatables[name]
end

function torch.getconstructortable(name)
  local ctor = constructors[name]
  if ctor == nil and metatables[name] then ctor = constructors[rawget(metatables[name], "__typename")] end
  return ctor
end

-- Register an existing metatable (tensor/storage classes do this).
function torch._register(name, mt, ctor)
  metatables[name] = mt
  constructors[name] = ctor
end

function torch.typename(obj)
  local mt = getmetatable(obj)
  if type(mt) == "table" then
    local tn = rawget(mt, "__typename")
    if tn then return tn end
  end
  return nil
end

function torch.type(obj)
  return torch.typename(obj) or type(obj)
end

function torch.isTypeOf(obj, typeSpec)
  if type(typeSpec) == "table" then
    local mt = getmetatable(typeSpec)
    typeSpec = rawget(typeSpec, "__typename") or (type(mt) == "table" and rawget(mt, "__typename"))
  end
  if type(typeSpec) ~= "string" then
    error("<torch.isTypeOf> type must be a class name (string, a pattern) or a constructor", 2)
  end
  local mt = getmetatable(obj)
  while type(mt) == "table" do
    local tn = rawget(mt, "__typename")
    if tn then
      -- a plain name must match the whole type name; a pattern may match part of it
      local ok, m = pcall(string.match, tn, typeSpec)
      if tn == typeSpec or (ok and m ~= nil and (m == tn or m ~= typeSpec)) then return true end
    end
    local up = getmetatable(mt)
    mt = type(up) == "table" and rawget(up, "__index") or nil
  end
  return false
end

-- torch.factory(name): a function making a bare instance (no __init); for tensors
-- and storages an empty one, as TH's factories do.
function torch.factory(name)
  local mt = metatables[name]
  if not mt then return nil end
  if rawget(mt, "_isTensor") or rawget(mt, "_isStorage") then
    local ctor = constructors[name] or constructors[rawget(mt, "__typename")]
    return function() return ctor() end
  end
  return function() return setmetatable({}, mt) end
end

function torch.setmetatable(obj, name)
  local mt = metatables[name]
  if not mt then error("<torch.setmetatable> unknown class " .. tostring(name), 2) end
  return setmetatable(obj, mt)
end

-- A unique id of an object (Torch7: the address of the C object, never the data
-- pointer of a tensor; see t:data() for that).
local pointers = setmetatable({}, {__mode = "k"})
local next_pointer = 0
local function raw_address(obj)
  -- tostring without running a __tostring metamethod
  local mt = type(obj) == "table" and getmetatable(obj) or nil
  local s
  if mt ~= nil and type(mt) == "table" and rawget(mt, "__metatable") == nil then
    setmetatable(obj, nil)
    s = tostring(obj)
    setmetatable(obj, mt)
  elseif mt == nil then
    s = tostring(obj)
  end
  return s and tonumber((s:match("0x(%x+)") or ""), 16)
end
function torch.pointer(obj)
  local t = type(obj)
  if t == "cdata" then
    return tonumber(require("ffi").cast("intptr_t", obj))
  elseif t == "table" or t == "function" or t == "userdata" or t == "thread" then
    local p = pointers[obj]
    if p then return p end
    p = (t ~= "userdata" or getmetatable(obj) == nil) and raw_address(obj)
    if not p then next_pointer = next_pointer + 1; p = -next_pointer end
    pointers[obj] = p
    return p
  end
  return nil
end

-- Errors of the runtime blame the first caller outside lua/torch/ (the user's line); with a
-- kind ('memory', ...) the error is a structured one (sparktorch7.errors) of that kind.
local errors = require 'sparktorch7.errors'
local function in_runtime(source)
  return source:find("[/\\]lua[/\\]torch[/\\][%w_]+%.lua$") ~= nil
end
function torch._error(msg, kind)
  local level = 2
  while true do
    local info = debug.getinfo(level, "S")
    if info == nil then level = 0; break end   -- only runtime frames (a tail call): no position
    if not in_runtime(info.source) then break end
    level = level + 1
  end
  if kind then errors.raise(kind, msg, level) end
  error(msg, level)
end

torch._get_path = get_path
torch._set_path = set_path
return torch
