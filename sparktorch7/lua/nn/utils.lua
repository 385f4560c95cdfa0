-- nn.utils: helpers shared by the nn modules (type conversion, deep copies,
-- table walking, clearing buffers). Returns its table; nn/init.lua stores it as nn.utils.
local utils = {}

-- GPU tensor types have no CPU meaning here: each maps to the CPU type that
-- torch.load gives for it.
local CPU_OF = {
   ['torch.CudaTensor'] = 'torch.FloatTensor',
   ['torch.CudaHalfTensor'] = 'torch.FloatTensor',
   ['torch.CudaDoubleTensor'] = 'torch.DoubleTensor',
   ['torch.CudaLongTensor'] = 'torch.LongTensor',
   ['torch.CudaIntTensor'] = 'torch.IntTensor',
   ['torch.CudaShortTensor'] = 'torch.ShortTensor',
   ['torch.CudaCharTensor'] = 'torch.CharTensor',
   ['torch.CudaByteTensor'] = 'torch.ByteTensor',
}

function utils.cpuType(typename)
   return CPU_OF[typename] or typename
end

local function tensorClass(typename)
   local short = typename:match('^torch%.(%a+Tensor)$')
   local cls = short and torch[short]
   if not cls then
      error(string.format('<nn> unknown tensor type %s', tostring(typename)), 3)
   end
   return cls
end

-- A new empty tensor of the type named typename (GPU names give CPU types).
function utils.newTensor(typename)
   return tensorClass(utils.cpuType(typename))()
end

-- A new empty tensor of t's type. (Torch7 code writes t.new(); this does
-- not depend on how the tensor runtime spells its constructors.)
function utils.newLike(t)
   return tensorClass(torch.typename(t))()
end

-- owner[name] when it is a tensor of like's type, else a new empty one stored there (a scratch
-- buffer kept across calls, as Torch7 modules keep theirs)
function utils.buffer(owner, name, like)
   local b = owner[name]
   if not torch.isTensor(b) or torch.type(b) ~= torch.type(like) then
      b = utils.newLike(like)
      owner[name] = b
   end
   return b
end

local function storageClass(tensorTypename)
   local short = tensorTypename:match('^torch%.(%a+)Tensor$')
   return torch[short .. 'Storage']
end

-- Converts tensors found in param (a tensor, a module, or a table of them) to
-- typename. tensorCache keeps sharing: two tensors on one storage end up on one
-- converted storage, and a tensor met twice is converted once.
function utils.recursiveType(param, typename, tensorCache)
   tensorCache = tensorCache or {}
   if torch.isTensor(param) then
      if torch.typename(param) == typename then
         return param
      end
      if tensorCache[param] then
         return tensorCache[param]
      end
      local cls = tensorClass(typename)
      local new = cls()
      local storage = param:storage()
      if storage ~= nil and param:nDimension() > 0 then
         local newStorage = tensorCache[storage]
         if not newStorage then
            newStorage = storageClass(typename)(storage:size())
            if storage:size() > 0 then
               newStorage:copy(storage)
            end
            tensorCache[storage] = newStorage
         end
         new:set(newStorage, param:storageOffset(), param:size(), param:stride())
      end
      tensorCache[param] = new
      return new
   elseif torch.isTypeOf(param, 'nn.Module') or torch.isTypeOf(param, 'nn.Criterion') then
      if not tensorCache[param] then
         tensorCache[param] = param
         param:type(typename, tensorCache)
      end
      return param
   elseif type(param) == 'table' and not torch.typename(param) then
      -- plain tables are walked once (graphs of nodes share and nest them)
      if not tensorCache[param] then
         tensorCache[param] = param
         for k, v in pairs(param) do
            param[k] = utils.recursiveType(v, typename, tensorCache)
         end
      end
   elseif torch.isStorage and torch.isStorage(param) then
      -- storages of sizes and indices (LongStorage) keep their type
      return param
   elseif type(param) == 'table' and torch.typename(param) then
      -- other torch objects (nngraph nodes, graphs): walk their fields once
      if not tensorCache[param] then
         tensorCache[param] = param
         for k, v in pairs(param) do
            param[k] = utils.recursiveType(v, typename, tensorCache)
         end
      end
   end
   return param
end

-- A deep copy of a value: tables keep their metatables, tensors get fresh
-- storages, and sharing inside the copied value is kept (two tensors on one
-- storage in the original are on one storage in the copy).
local function deepCopy(v, memo)
   local tv = type(v)
   if tv ~= 'table' and not (tv == 'userdata' and (torch.isTensor(v) or torch.isStorage(v))) then
      return v
   end
   if memo[v] then
      return memo[v]
   end
   local tname = torch.typename(v)
   if tname and torch.isTensor(v) then
      local copy = tensorClass(tname)()
      memo[v] = copy
      if v:nDimension() > 0 then
         local st = deepCopy(v:storage(), memo)
         copy:set(st, v:storageOffset(), v:size(), v:stride())
      end
      return copy
   elseif tname and tname:match('^torch%.%a+Storage$') then
      local cls = torch[tname:match('^torch%.(%a+Storage)$')]
      local copy = cls(v:size())
      if v:size() > 0 then
         copy:copy(v)
      end
      memo[v] = copy
      return copy
   end
   local copy = {}
   memo[v] = copy
   for k, val in pairs(v) do
      copy[deepCopy(k, memo)] = deepCopy(val, memo)
   end
   local mt = getmetatable(v)
   if mt then
      setmetatable(copy, mt)
   end
   return copy
end

function utils.deepCopy(v)
   return deepCopy(v, {})
end

-- Empties the named fields of a module: tensors become new empty tensors of
-- the same type (not :set(), which would empty tensors other modules share),
-- tables become {}, anything else nil.
-- Torch7's default parameter initialisation: weight (and bias, when the module has one)
-- uniform in +-stdv*sqrt(3), or +-1/sqrt(fanin) when no stdv is given.
function utils.resetUniform(self, stdv, fanin)
   if stdv then
      stdv = stdv * math.sqrt(3)
   else
      stdv = 1 / math.sqrt(fanin)
   end
   self.weight:uniform(-stdv, stdv)
   if self.bias then
      self.bias:uniform(-stdv, stdv)
   end
end

function utils.clear(self, ...)
   local names = {...}
   if #names > 0 and type(names[1]) == 'table' then
      names = names[1]
   end
   for _, f in ipairs(names) do
      local v = self[f]
      if v ~= nil then
         if torch.isTensor(v) then
            self[f] = utils.newLike(v)
         elseif type(v) == 'table' then
            self[f] = {}
         else
            self[f] = nil
         end
      end
   end
   return self
end

-- A view of t with a singleton dimension inserted at position dim.
function utils.addSingletonDimension(...)
   local view, t, dim
   local a, b, c = ...
   if torch.isTensor(b) then
      view, t, dim = a, b, c
   else
      t, dim = a, b
      view = utils.newLike(t)
   end
   dim = dim or 1
   if dim < 1 or dim > t:dim() + 1 then
      error(string.format('<nn.utils> invalid dimension %d for a %dD tensor', dim, t:dim()), 2)
   end
   local size = torch.LongStorage(t:dim() + 1)
   local stride = torch.LongStorage(t:dim() + 1)
   for d = 1, dim - 1 do
      size[d] = t:size(d)
      stride[d] = t:stride(d)
   end
   size[dim] = 1
   stride[dim] = 1
   for d = dim + 1, t:dim() + 1 do
      size[d] = t:size(d - 1)
      stride[d] = t:stride(d - 1)
   end
   view:set(t:storage(), t:storageOffset(), size, stride)
   return view
end

-- Gathers tensors into one flat tensor: each distinct storage is copied into
-- it whole, and every tensor is re-pointed at its place there (sharing between
-- the tensors is kept). Returns the flat tensor (empty for no tensors).
function utils.flatten(tensors)
   if not tensors or #tensors == 0 then
      return torch.Tensor()
   end
   local typename = torch.typename(tensors[1])
   local places, order, total = {}, {}, 0
   for i, t in ipairs(tensors) do
      if torch.typename(t) ~= typename then
         error(string.format('<nn.utils.flatten> tensor %d is a %s, tensor 1 a %s', i,
                             torch.typename(t), typename), 2)
      end
      local st = t:storage()
      if st and not places[st] then
         places[st] = total
         order[#order + 1] = st
         total = total + st:size()
      end
   end
   local flat = tensorClass(typename)(math.max(total, 0))
   if total == 0 then
      return flat
   end
   local fst = flat:storage()
   for _, st in ipairs(order) do
      local n = st:size()
      if n > 0 then
         local whole = tensorClass(typename)():set(st, 1, torch.LongStorage({n}))
         flat:narrow(1, places[st] + 1, n):copy(whole)
      end
   end
   for _, t in ipairs(tensors) do
      local st = t:storage()
      if st and t:nDimension() > 0 then
         t:set(fst, places[st] + t:storageOffset(), t:size(), t:stride())
      end
   end
   return flat
end

-- Appends the elements of a (nested) list to another list.
function utils.flattenInto(to, from)
   if type(from) == 'table' and not torch.typename(from) then
      for i = 1, #from do
         utils.flattenInto(to, from[i])
      end
   else
      to[#to + 1] = from
   end
   return to
end

-- The CPU tensor type a module's tensors have (first tensor found among
-- its parameters, else its output), or nil.
function utils.moduleTensorType(module)
   local params = module:parameters()
   if params and params[1] then
      return torch.typename(params[1])
   end
   if torch.isTensor(module.output) then
      return torch.typename(module.output)
   end
   return nil
end

-- Checks that a parameter and an input have one tensor type.
function utils.checkSameType(name, input, param)
   if torch.typename(input) ~= torch.typename(param) then
      error(string.format('<%s> input is a %s but the module holds %s: convert the input, '
                          .. 'or the module with :float()/:double()',
                          name, torch.typename(input), torch.typename(param)), 3)
   end
end

-- An argument as an error message names it: 'a 3D torch.DoubleTensor of size 2x3x4',
-- 'an empty torch.FloatTensor', 'the number 3', 'a table'.
function utils.describe(v)
   if torch.isTensor(v) then
      if v:dim() == 0 then
         return 'an empty ' .. torch.type(v)
      end
      return string.format('a %dD %s of size %s', v:dim(), torch.type(v),
                           table.concat(v:size():totable(), 'x'))
   elseif type(v) == 'number' then
      return 'the number ' .. tostring(v)
   end
   return 'a ' .. torch.type(v)
end

-- ---------------------------------------------------------------- nested tables of tensors
-- (Torch7's nn.utils.recursive*, used by the table modules and containers for gradients)

local function nestedError(name, a, b)
   error(string.format('<nn.utils.%s> expecting nested tensors or tables, got %s and %s',
                       name, torch.type(a), torch.type(b)), 3)
end

-- t1 remade with t2's nesting, its tensors (reused when of t2's type) given
-- to leaf(t1tensor, t2tensor); keys t2 lacks are dropped. Returns t1.
local function remake(name, t1, t2, leaf)
   if type(t2) == 'table' and not torch.typename(t2) then
      if type(t1) ~= 'table' or torch.typename(t1) then
         t1 = {}
      end
      for k, v in pairs(t2) do
         t1[k] = remake(name, t1[k], v, leaf)
      end
      for k in pairs(t1) do
         if t2[k] == nil then t1[k] = nil end
      end
   elseif torch.isTensor(t2) then
      if not torch.isTensor(t1) or torch.type(t1) ~= torch.type(t2) then
         t1 = t2.new()
      end
      leaf(t1, t2)
   else
      nestedError(name, t1, t2)
   end
   return t1
end

-- t1 made to have t2's nesting and sizes (tensors of t2's type), reusing what
-- it holds. Returns t1, t2.
function utils.recursiveResizeAs(t1, t2)
   return remake('recursiveResizeAs', t1, t2, function(a, b) a:resize(b:size()) end), t2
end

-- Fills every tensor of a nested table with val; returns it.
function utils.recursiveFill(t, val)
   if type(t) == 'table' and not torch.typename(t) then
      for _, v in pairs(t) do
         utils.recursiveFill(v, val)
      end
   elseif torch.isTensor(t) then
      t:fill(val)
   else
      nestedError('recursiveFill', t, val)
   end
   return t
end

-- t1 += val * t2 over nested tables (recursiveAdd(t1, t2) adds t2 once); returns t1, t2.
function utils.recursiveAdd(t1, val, t2)
   if t2 == nil then
      t2, val = val, 1
   end
   if type(t2) == 'table' and not torch.typename(t2) then
      if type(t1) ~= 'table' or torch.typename(t1) then
         nestedError('recursiveAdd', t1, t2)
      end
      for k, v in pairs(t2) do
         t1[k] = utils.recursiveAdd(t1[k], val, v)
      end
   elseif torch.isTensor(t1) and torch.isTensor(t2) then
      t1:add(val, t2)
   else
      nestedError('recursiveAdd', t1, t2)
   end
   return t1, t2
end

-- t1 made a copy of t2 (nesting, sizes and values), reusing what it holds; returns t1, t2.
function utils.recursiveCopy(t1, t2)
   return remake('recursiveCopy', t1, t2, function(a, b) a:resizeAs(b):copy(b) end), t2
end

return utils
