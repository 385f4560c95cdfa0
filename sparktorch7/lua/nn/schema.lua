-- nn.schema: the fields an nn class's objects hold, declared next to the class and checked by
-- one function when an object is read from a .t7 file: nn.Module:read and nn.Criterion:read
-- call schema.checkFields on the value read for the fields, copy them, then schema.check,
-- and only then backCompatibility (which thus runs on fields of the declared types). A file
-- whose fields do not fit raises an error of kind 't7format' (sparktorch7.errors; Python's
-- T7FormatError, a ValueError) that names the class, the field, what was expected and what
-- the file holds:
--   nn.Linear.bias: expected a tensor of size 4000 (outputSize = weight:size(1)),
--   the file holds a torch.FloatTensor of size 1 (the nn.Linear at byte offset 85 of m.t7)
-- Objects built in Lua are never checked: only what comes from a file is.
--
-- Declaring a schema (any package can, for its own classes; a class file declares right after
-- its torch.class line):
--   local schema = require('nn.schema')
--   local Linear, parent = torch.class('nn.Linear', 'nn.Module')
--   schema.declare(Linear, {
--      {'weight', 'tensor', dim = 2},
--      {'bias', 'tensor?', size = {'outputSize'}},
--      outputSize = 'weight:size(1)',       -- a derived name, usable in expressions
--   })
--   schema.parameterless(Abs, 'a pointwise function: no fields of its own')   -- documented
--   schema.inherited(SpatialConvolution, "nn.SpatialConvolution's fields")   -- cudnn's twin
--   schema.like(SpatialConvolutionMM, nn.SpatialConvolution, 'runs its forward')
-- The list part holds field entries, checked in order (an entry may rely on the entries
-- before it being valid); the hash part holds derived names, expressions evaluated when first
-- used. A class inherits its ancestors' entries (nn.Module's: output, gradInput, train, _type,
-- modules); an entry it redeclares replaces the inherited one and is checked in its own
-- place. A class without a declaration of its own has its nearest ancestor's (its inherited
-- forward relies on the same fields); schema.like gives a class that borrows another's methods
-- without subclassing it the other's entries. A class with its own `read` calls
-- schema.checkFields and schema.check as nn.Module:read does (or calls nn.Module.read).
--
-- A field entry is {name, type, options...}. Types (a '|' joins alternatives, a trailing '?'
-- allows nil, i.e. the field is absent from the file):
--   any, number, boolean, string, table (a plain Lua table), function,
--   int (an integer of magnitude < 2^31), natural (int >= 0), posint (int >= 1),
--   tensor, storage (any torch storage), longstorage, module (an nn.Module), criterion,
--   modules (a list 1..n of nn.Module, no other keys), node (an nngraph/graph Node)
-- module, criterion and modules also accept the placeholders of classes this runtime does not
-- define, loaded with {unknown_classes = 'table'}.
-- Options:
--   default = v          the value expressions see when the field is absent
--   min = n, max = n     bounds of a number (numbers, not expressions)
--   dim = n or {n, m}    the number of dimensions of a tensor (any of the list)
--   size = {e1, e2, ...} a tensor's exact sizes, each an expression ('*' for any size)
--   sizes = {{...}, ...} alternative layouts (legacy files): any one of them fits
--   nElement = e         a tensor's element count
--   check = 'e1 op e2'   a relation (op one of == ~= < <= > >=) that must hold; or a
--                        function(value, object) returning nil when fine, else the
--                        expectation and (optionally) what the file holds, as two strings
--                        (it sees the object's raw fields; the entries before it are valid)
-- Expressions: integers, field and derived names, name:size(k), name:dim(), name:nElement(),
-- name:prod() (the product of a storage's values), #name, + - * / % and parentheses. An
-- expression naming an absent field (nil, no default) is unknown, and a check needing it is
-- skipped. A name that is no field, derived name or default is looked up in the class
-- (nn.BatchNormalization.nDim).
-- For every object, schema.check also refuses a field that would hide one of the methods
-- modules rely on (forward, type, evaluate, ...) unless it is a function or declared, and a
-- cycle through modules (the `modules` list, a decorator's `module`, a gModule's nodes).
-- Check functions can use schema.sizeIs (a tensor's exact sizes, computed in Lua: sizes known
-- from sub-modules), schema.oneOf (a string from a list), schema.moduleMap (modules keyed by
-- integers, with gaps) and schema.reaches (a cycle through a field the walk does not follow).
local errors = require('sparktorch7.errors')
local schema = {}

local MAXINT = 2147483647

-- ------------------------------------------------------------------ expressions
local function tokenize(src)
   local tokens, i = {}, 1
   while i <= #src do
      local c = src:sub(i, i)
      if c:match('%s') then
         i = i + 1
      else
         local num = src:match('^%d+', i)
         local name = src:match('^[%a_][%w_]*', i)
         local op = src:match('^[=~<>]=', i) or src:match('^[%+%-%*/%%%(%)#:<>]', i)
         if num then
            tokens[#tokens + 1] = {'num', tonumber(num)}; i = i + #num
         elseif name then
            tokens[#tokens + 1] = {'name', name}; i = i + #name
         elseif op then
            tokens[#tokens + 1] = {'op', op}; i = i + #op
         else
            error(string.format('<nn.schema> bad character %q in expression %q', c, src), 3)
         end
      end
   end
   return tokens
end

-- the value of a name in a check's scope (fields, defaults and derived names)
-- (a field of the object, else a derived name, else the entry's default, else a value of the
-- class such as nn.BatchNormalization.nDim)
local function lookup(scope, name)
   local v = rawget(scope.fields, name)
   if v ~= nil then return v end
   local derived = scope.derived[name]
   if derived then
      v = scope.cache[name]
      if v == nil then
         v = derived.eval(scope)
         scope.cache[name] = v
      end
      return v
   end
   v = scope.defaults[name]
   if v ~= nil then return v end
   return scope.fields[name]
end

local function isInt(v)
   return type(v) == 'number' and v == math.floor(v) and v > -2^53 and v < 2^53
end

-- compiles an expression into function(scope) -> number or nil (unknown)
local function compile(src)
   local tokens, pos = tokenize(src), 1
   local function peek() return tokens[pos] end
   local function take(kind, value)
      local t = tokens[pos]
      if not t or t[1] ~= kind or (value and t[2] ~= value) then
         error(string.format('<nn.schema> cannot parse expression %q', src), 4)
      end
      pos = pos + 1
      return t[2]
   end
   local expr
   local function factor()
      local t = peek()
      if not t then error(string.format('<nn.schema> expression %q ends early', src), 4) end
      if t[1] == 'num' then
         pos = pos + 1
         local n = t[2]
         return function() return n end
      elseif t[1] == 'op' and t[2] == '(' then
         pos = pos + 1
         local e = expr()
         take('op', ')')
         return e
      elseif t[1] == 'op' and t[2] == '#' then
         pos = pos + 1
         local name = take('name')
         return function(scope)
            local v = lookup(scope, name)
            if torch.isTensor(v) then return v:nElement() end
            if type(v) == 'table' and not torch.typename(v) then return #v end
            if torch.isStorage(v) then return v:size() end
         end
      elseif t[1] == 'op' and t[2] == '-' then
         pos = pos + 1
         local f = factor()
         return function(scope)
            local v = f(scope)
            return v and -v
         end
      end
      local name = take('name')
      local nt = peek()
      if nt and nt[1] == 'op' and nt[2] == ':' then
         pos = pos + 1
         local method = take('name')
         take('op', '(')
         local k
         if method == 'size' then k = take('num') end
         take('op', ')')
         if method == 'size' then
            return function(scope)
               local v = lookup(scope, name)
               if torch.isTensor(v) and v:dim() >= k then return v:size(k) end
            end
         elseif method == 'dim' then
            return function(scope)
               local v = lookup(scope, name)
               if torch.isTensor(v) then return v:dim() end
            end
         elseif method == 'prod' then
            return function(scope)
               local v = lookup(scope, name)
               if torch.isStorage(v) then
                  local n = 1
                  for i = 1, v:size() do n = n * v[i] end
                  return n
               end
            end
         elseif method == 'nElement' then
            return function(scope)
               local v = lookup(scope, name)
               if torch.isTensor(v) then return v:nElement() end
            end
         end
         error(string.format('<nn.schema> unknown method %s in expression %q', method, src), 4)
      end
      return function(scope)
         local v = lookup(scope, name)
         if type(v) == 'number' then return v end
      end
   end
   local function binary(sub, ops)
      return function()
         local lhs = sub()
         while true do
            local t = peek()
            if not (t and t[1] == 'op' and ops[t[2]]) then return lhs end
            pos = pos + 1
            local rhs, op, l = sub(), t[2], lhs
            lhs = function(scope)
               local a, b = l(scope), rhs(scope)
               if a == nil or b == nil then return nil end
               if op == '+' then return a + b
               elseif op == '-' then return a - b
               elseif op == '*' then return a * b
               elseif op == '/' then return b ~= 0 and a / b or nil
               elseif op == '%' then return b ~= 0 and a % b or nil
               elseif op == '==' then return a == b
               elseif op == '~=' then return a ~= b
               elseif op == '<' then return a < b
               elseif op == '<=' then return a <= b
               elseif op == '>' then return a > b
               else return a >= b end
            end
         end
      end
   end
   local term = binary(factor, {['*'] = true, ['/'] = true, ['%'] = true})
   expr = binary(term, {['+'] = true, ['-'] = true})
   local relation = binary(expr, {['=='] = true, ['~='] = true, ['<'] = true, ['<='] = true,
                                  ['>'] = true, ['>='] = true})
   local f = relation()
   if pos <= #tokens then
      error(string.format('<nn.schema> cannot parse expression %q', src), 3)
   end
   return f
end

-- ------------------------------------------------------------------ describing values
local function describeSize(sizes)
   if #sizes == 0 then return 'with no dimensions' end
   return 'of size ' .. table.concat(sizes, 'x')
end

local function tensorSizes(t)
   local s = {}
   for i = 1, t:dim() do s[i] = t:size(i) end
   return s
end

-- what the file holds, for messages
local function holds(v)
   if v == nil then return 'nothing (the field is missing)' end
   if torch.isTensor(v) then
      return string.format('a %s %s', torch.typename(v), describeSize(tensorSizes(v)))
   end
   local tn = torch.typename(v)
   if tn then return 'a ' .. tn end
   local t = type(v)
   if t == 'number' then return string.format('the number %.17g', v) end
   if t == 'string' then
      return string.format('the string %q', #v > 40 and v:sub(1, 40) .. '...' or v)
   end
   if t == 'boolean' then return 'the boolean ' .. tostring(v) end
   return 'a ' .. t
end
schema.holds = holds

-- ------------------------------------------------------------------ types
-- an object of a class this runtime does not define, loaded with {unknown_classes = 'table'}
-- as a placeholder (lua/torch/serialization.lua): it stands for a module of that class
local function isPlaceholder(v)
   local mt = type(v) == 'table' and getmetatable(v)
   return type(mt) == 'table' and rawget(mt, '__t7raw') == true
end

schema.isPlaceholder = isPlaceholder

local function isModule(v)
   return torch.isTypeOf(v, 'nn.Module') or isPlaceholder(v)
end

local TYPES = {
   any = {function() return true end, 'any value'},
   number = {function(v) return type(v) == 'number' end, 'a number'},
   boolean = {function(v) return type(v) == 'boolean' end, 'a boolean'},
   string = {function(v) return type(v) == 'string' end, 'a string'},
   ['function'] = {function(v) return type(v) == 'function' end, 'a function'},
   table = {function(v) return type(v) == 'table' and torch.typename(v) == nil end, 'a table'},
   int = {function(v) return isInt(v) and math.abs(v) <= MAXINT end, 'an integer'},
   natural = {function(v) return isInt(v) and v >= 0 and v <= MAXINT end,
              'an integer >= 0 (below 2^31)'},
   posint = {function(v) return isInt(v) and v >= 1 and v <= MAXINT end,
             'an integer >= 1 (below 2^31)'},
   tensor = {function(v) return torch.isTensor(v) end, 'a tensor'},
   storage = {function(v) return torch.isStorage(v) end, 'a storage'},
   longstorage = {function(v) return torch.typename(v) == 'torch.LongStorage' end,
                  'a torch.LongStorage'},
   module = {isModule, 'an nn module'},
   criterion = {function(v) return torch.isTypeOf(v, 'nn.Criterion') or isPlaceholder(v) end,
                'an nn criterion'},
   node = {function(v) return torch.isTypeOf(v, 'graph.Node') end, 'an nngraph.Node'},
}

-- a list 1..n of modules; returns nil or (expectation, holds)
local function checkModuleList(v)
   if type(v) ~= 'table' or torch.typename(v) then return false end
   local n = 0
   for k in pairs(v) do
      if not isInt(k) or k < 1 then
         return false, string.format('a table with the key %s', holds(k):gsub('^the ', ''))
      end
      n = n + 1
   end
   for i = 1, n do
      if v[i] == nil then
         return false, string.format('a table with no entry at index %d (not a list 1..%d)', i, n)
      end
      if not isModule(v[i]) then
         return false, string.format('%s at index %d', holds(v[i]), i)
      end
   end
   return true
end
TYPES.modules = {checkModuleList, 'a list of nn modules'}

local function parseType(spec, where)
   local optional = spec:sub(-1) == '?'
   if optional then spec = spec:sub(1, -2) end
   local alts, names = {}, {}
   for name in spec:gmatch('[^|]+') do
      local t = TYPES[name]
      if not t then error(string.format('<nn.schema> unknown type %q in %s', name, where), 3) end
      alts[#alts + 1] = t[1]
      names[#names + 1] = t[2]
   end
   return alts, table.concat(names, ' or '), optional
end

-- ------------------------------------------------------------------ declaring
local declared = {}       -- class metatable -> {entries = {...}, derived = {...}}
local resolved = setmetatable({}, {__mode = 'k'})   -- metatable -> merged schema

local function compileExpr(src, where)
   if type(src) == 'number' then
      return {src = tostring(src), eval = function() return src end}
   end
   if src == '*' then return {src = '*', any = true} end
   if type(src) ~= 'string' then
      error(string.format('<nn.schema> an expression of %s is a %s', where, type(src)), 3)
   end
   return {src = src, eval = compile(src)}
end

local function compileEntry(className, e)
   local name = e[1]
   local where = className .. '.' .. tostring(name)
   if type(name) ~= 'string' or type(e[2]) ~= 'string' then
      error(string.format('<nn.schema> %s: an entry is {name, type, options...}', className), 3)
   end
   local c = {name = name}
   c.alts, c.typeText, c.optional = parseType(e[2], where)
   c.default, c.min, c.max = e.default, e.min, e.max
   if e.dim then c.dim = type(e.dim) == 'table' and e.dim or {e.dim} end
   local layouts = e.sizes or (e.size and {e.size})
   if layouts then
      c.layouts = {}
      for i, l in ipairs(layouts) do
         local exprs = {}
         for j, s in ipairs(l) do exprs[j] = compileExpr(s, where) end
         c.layouts[i] = exprs
      end
   end
   if e.nElement then c.nElement = compileExpr(e.nElement, where) end
   if type(e.check) == 'function' then
      c.checkFn = e.check
   elseif e.check then
      c.check = compileExpr(e.check, where)
   end
   return c
end

--- schema.declare(class, spec): declares the fields of a class's objects (see the top).
function schema.declare(class, spec)
   local className = rawget(class, '__typename')
   if type(className) ~= 'string' then
      error('<nn.schema> declare(class, spec): class must be a torch.class metatable', 2)
   end
   local s = {className = className, entries = {}, derived = {}}
   for _, e in ipairs(spec) do
      s.entries[#s.entries + 1] = compileEntry(className, e)
   end
   for k, v in pairs(spec) do
      if type(k) == 'string' then
         local d = compileExpr(v, className .. '.' .. k)
         d.name = k
         s.derived[k] = d
      end
   end
   declared[class] = s
   for k in pairs(resolved) do resolved[k] = nil end
   return class
end

--- schema.parameterless(class, reason): a class whose objects have no fields of their own
-- to check (its parent's entries still apply); the reason documents why.
function schema.parameterless(class, reason)
   schema.declare(class, {})
   declared[class].reason = reason
   return class
end

local function parentOf(mt)
   local up = getmetatable(mt)
   return type(up) == 'table' and rawget(up, '__index') or nil
end

-- the merged schema of a class: its ancestors' entries, then its own
local function resolve(mt)
   local r = resolved[mt]
   if r then return r end
   local chain = {}
   local m = mt
   while type(m) == 'table' do
      if declared[m] then table.insert(chain, 1, declared[m]) end
      m = parentOf(m)
   end
   r = {entries = {}, derived = {}, index = {}, defaults = {}}
   -- an entry a class redeclares moves to its place in that class's list: the fields it
   -- relies on come before it
   local slots = {}
   for _, s in ipairs(chain) do
      for _, e in ipairs(s.entries) do
         local at = r.index[e.name]
         if at then slots[at] = false end
         slots[#slots + 1] = e
         r.index[e.name] = #slots
      end
      for k, d in pairs(s.derived) do r.derived[k] = d end
   end
   for _, e in ipairs(slots) do
      if e then
         r.entries[#r.entries + 1] = e
         r.index[e.name] = #r.entries
      end
   end
   for _, e in ipairs(r.entries) do
      r.defaults[e.name] = e.default
   end
   r.declaredBy = chain[#chain] and chain[#chain].className
   resolved[mt] = r
   return r
end

--- schema.inherited(class, reason): a class whose objects hold exactly its parent's fields
-- (a cudnn twin of an nn class, a subclass that changes methods only); the reason says whose
schema.inherited = schema.parameterless

--- schema.like(class, other, reason): a class that borrows another's methods without being its
-- subclass (nn.SpatialConvolutionMM runs nn.SpatialConvolution's forward) holds its fields
function schema.like(class, other, reason)
   local r = resolve(other)
   local s = {className = rawget(class, '__typename'), entries = {}, derived = {}, reason = reason}
   for i, e in ipairs(r.entries) do s.entries[i] = e end
   for k, d in pairs(r.derived) do s.derived[k] = d end
   declared[class] = s
   for k in pairs(resolved) do resolved[k] = nil end
   return class
end

--- schema.of(class or name): the class's own declaration (nil if it has none), for tests and tools
function schema.of(class)
   if type(class) == 'string' then class = torch.getmetatable(class) end
   local s = class and declared[class]
   if not s then return nil end
   local names = {}
   for i, e in ipairs(s.entries) do names[i] = e.name end
   return {className = s.className, fields = names, reason = s.reason}
end

-- ------------------------------------------------------------------ checking
-- pushes the modules an object runs: its `modules`, a decorator's `module`, and the modules of
-- an nngraph gModule's nodes
local function pushChildren(stack, m)
   if type(m) ~= 'table' then return end
   local children = rawget(m, 'modules')
   if type(children) == 'table' and not torch.typename(children) then
      for i = #children, 1, -1 do stack[#stack + 1] = children[i] end
   end
   local single = rawget(m, 'module')
   if type(single) == 'table' then stack[#stack + 1] = single end
   local nodes = rawget(m, 'forwardnodes')
   if type(nodes) == 'table' and not torch.typename(nodes) then
      for i = #nodes, 1, -1 do
         local node = nodes[i]
         local data = type(node) == 'table' and rawget(node, 'data')
         local module = type(data) == 'table' and rawget(data, 'module')
         if type(module) == 'table' then stack[#stack + 1] = module end
      end
   end
end

-- objects whose check has passed, and those of them from which only checked objects can
-- be reached (a cycle through self cannot go through those: the walk skips them, so that
-- reading a tree of n modules costs O(n), not O(n x depth))
local checked = setmetatable({}, {__mode = 'k'})
local closed = setmetatable({}, {__mode = 'k'})

-- does a walk from obj's modules come back to obj? and is everything it reaches checked?
local function findCycle(obj)
   local seen, stack = {}, {}
   pushChildren(stack, obj)
   local allChecked = true
   while #stack > 0 do
      local m = table.remove(stack)
      if rawequal(m, obj) then return true end
      if not seen[m] and not closed[m] then
         seen[m] = true
         if not checked[m] then allChecked = false end
         pushChildren(stack, m)
      end
   end
   return false, allChecked
end

local function fail(ctx, field, expected, held)
   local where = ''
   if ctx.file and type(ctx.file._where) == 'function' then
      where = string.format(' (the %s %s)', ctx.className, ctx.file:_where(ctx.pos))
   end
   errors.raise('t7format', string.format('%s%s: expected %s, the file holds %s%s', ctx.className,
                                          field and ('.' .. field) or '', expected, held, where), 0)
end

-- "4000 (outputSize = weight:size(1))", "64x3x5x5 (nOutputPlane x nInputPlane x kH x kW)"
local function explainLayout(layout, values, scope)
   local derived = scope.derived
   local shown, parts, plain = {}, {}, true
   for i, e in ipairs(layout) do
      shown[i] = e.any and '*' or tostring(values[i])
      local text = e.src
      if derived[text] and rawget(scope.fields, text) == nil then text = text .. ' = ' .. derived[text].src end
      parts[i] = text
      if not e.any and e.src ~= tostring(values[i]) then plain = false end
   end
   local s = #shown == 0 and 'with no dimensions' or 'of size ' .. table.concat(shown, 'x')
   if not plain then s = s .. ' (' .. table.concat(parts, ' x ') .. ')' end
   return s
end

local function checkTensor(ctx, e, v, scope)
   if e.dim then
      local ok = false
      for _, d in ipairs(e.dim) do ok = ok or v:dim() == d end
      if not ok then
         fail(ctx, e.name, string.format('a tensor of %s dimensions', table.concat(e.dim, ' or ')),
              holds(v))
      end
   end
   if e.layouts then
      local texts, anyKnown = {}, false
      for _, layout in ipairs(e.layouts) do
         local values, known, fits = {}, true, v:dim() == #layout
         for i, x in ipairs(layout) do
            if not x.any then
               local n = x.eval(scope)
               if n == nil then known = false; break end
               values[i] = n
               if fits and v:size(i) ~= n then fits = false end
            end
         end
         if not known then
            fits = true      -- an unknown size cannot be checked
         else
            anyKnown = true
         end
         if fits then return end
         texts[#texts + 1] = explainLayout(layout, values, scope)
      end
      if anyKnown then
         fail(ctx, e.name, 'a tensor ' .. table.concat(texts, ' or '), holds(v))
      end
   end
   if e.nElement then
      local n = e.nElement.eval(scope)
      if n ~= nil and v:nElement() ~= n then
         local text = e.nElement.src
         if scope.derived[text] and rawget(scope.fields, text) == nil then
            text = text .. ' = ' .. scope.derived[text].src
         end
         fail(ctx, e.name, string.format('a tensor of %s elements (%s)', tostring(n), text),
              string.format('%s (%d elements)', holds(v), v:nElement()))
      end
   end
end

local function checkEntry(ctx, e, scope)
   local v = rawget(scope.fields, e.name)
   if v == nil then
      if e.optional then return end
      if ctx.file and type(ctx.file._schemaWithheld) == 'table' and ctx.file._schemaWithheld[e.name] then
         return
      end
      fail(ctx, e.name, e.typeText, holds(nil))
   end
   local ok, extra = false, nil
   for _, test in ipairs(e.alts) do
      local r, why = test(v)
      if r then ok = true; break end
      extra = extra or why
   end
   if not ok then
      fail(ctx, e.name, e.typeText .. (e.optional and ' (or nothing)' or ''), extra or holds(v))
   end
   if type(v) == 'number' then
      if e.min and v < e.min then
         fail(ctx, e.name, string.format('%s >= %.17g', e.typeText, e.min), holds(v))
      end
      if e.max and v > e.max then
         fail(ctx, e.name, string.format('%s <= %.17g', e.typeText, e.max), holds(v))
      end
   elseif torch.isTensor(v) then
      checkTensor(ctx, e, v, scope)
   end
   if e.check then
      local r = e.check.eval(scope)
      if r == false then
         fail(ctx, e.name, e.check.src, holds(v))
      end
   elseif e.checkFn then
      local expected, held = e.checkFn(v, scope.fields)
      if expected then fail(ctx, e.name, expected, held or holds(v)) end
   end
end

-- Methods every module and criterion relies on: a file's field of the same name that is
-- not a function would hide the method (forward, type, evaluate ... then fail obscurely).
local CORE_METHODS = {}
for _, name in ipairs({'forward', 'updateOutput', 'backward', 'updateGradInput', 'accGradParameters',
                       'evaluate', 'training', 'type', 'float', 'double', 'cuda', 'apply', 'read',
                       'write', 'backCompatibility', 'parameters', 'getParameters', 'clearState',
                       'replace', 'listModules', 'findModules', 'applyToModules', 'rethrowErrors',
                       'clone', 'share', 'reset', 'add', 'get', 'runForwardFunction'}) do
   CORE_METHODS[name] = true
end

--- schema.checkFields(className, fields, file, pos): the value a file holds for an object's
-- fields must be a table (called by read hooks before the fields are copied).
function schema.checkFields(className, fields, file, pos)
   if type(fields) ~= 'table' or torch.typename(fields) then
      fail({className = className, file = file, pos = pos}, nil, 'a table of fields', holds(fields))
   end
end

--- schema.check(obj [, file, pos]): checks obj's fields against its class's schema; raises
-- a T7FormatError naming the class, field, expectation and what the file holds.
function schema.check(obj, file, pos)
   local mt = getmetatable(obj)
   local className = torch.typename(obj) or '?'
   local ctx = {className = className, file = file, pos = pos}
   local r = resolve(mt)
   for k, v in pairs(obj) do
      if CORE_METHODS[k] and type(v) ~= 'function' and not r.index[k] then
         fail(ctx, k, string.format('no field named like the method %s (a function, if any)', k),
              holds(v))
      end
   end
   local scope = {fields = obj, derived = r.derived, defaults = r.defaults, cache = {}}
   for _, e in ipairs(r.entries) do
      checkEntry(ctx, e, scope)
   end
   local cycle, allChecked = findCycle(obj)
   if cycle then
      fail(ctx, 'modules', 'a tree of modules', 'a container that contains itself (a cycle through its modules)')
   end
   checked[obj] = true
   if allChecked then closed[obj] = true end
   return obj
end

--- schema.withheld(file, names, f, ...): runs f(...) (a read hook reading its fields) with
-- the fields listed in names allowed to be missing from the objects read meanwhile: a class
-- whose file leaves out a part of the module it holds, which its read then rebuilds
-- (nn.WeightNorm writes its module without the weight, as Torch7 does). Returns f's results.
function schema.withheld(file, names, f, ...)
   local before = file._schemaWithheld
   local now = {}
   if type(before) == 'table' then
      for k, v in pairs(before) do now[k] = v end
   end
   for _, name in ipairs(names) do now[name] = true end
   file._schemaWithheld = now
   local function finish(ok, ...)
      file._schemaWithheld = before
      if not ok then error((...), 0) end
      return ...
   end
   return finish(pcall(f, ...))
end

-- ------------------------------------------------------------------ shared checks

--- schema.acyclic(modules, self): nil when self is not among its own descendants, else
-- the expectation and what the file holds (a module that contains itself would make forward
-- recurse without end). schema.check runs it on every object it checks; the first object
-- of a cycle that the reader enters is the last one it finishes, and by then every object
-- of the cycle has its fields.
function schema.acyclic(modules, self)
   if findCycle(self) then
      return 'a tree of modules', 'a container that contains itself (a cycle through its modules)'
   end
end

--- schema.decorated: a check for a decorator's `modules`: one module
function schema.decorated(modules)
   if #modules ~= 1 then
      return 'a list of one module (the decorated one)', string.format('a list of %d modules', #modules)
   end
end

--- schema.naturalStorage: a check for a LongStorage of sizes (each an integer >= 0)
function schema.naturalStorage(s)
   for i = 1, s:size() do
      local v = s[i]
      if not (isInt(v) and v >= 0 and v <= MAXINT) then
         return 'sizes that are integers >= 0', string.format('%s at index %d', holds(v), i)
      end
   end
end

--- schema.viewSizes: a check for nn.View's sizes: integers >= 0, or one -1 (inferred)
function schema.viewSizes(s)
   local holes = 0
   for i = 1, s:size() do
      local v = s[i]
      if v == -1 then
         holes = holes + 1
      elseif not (isInt(v) and v >= 0 and v <= MAXINT) then
         return 'sizes that are integers >= 0 or one -1', string.format('%s at index %d', holds(v), i)
      end
   end
   if holes > 1 then
      return 'sizes with at most one -1', string.format('%d sizes of -1', holes)
   end
end

--- schema.permutationPairs: a check for nn.Transpose's list of {dim1, dim2} pairs
function schema.permutationPairs(t)
   for i = 1, #t do
      local p = t[i]
      if type(p) ~= 'table' or torch.typename(p) or not (isInt(p[1]) and isInt(p[2])
            and p[1] >= 1 and p[2] >= 1 and p[1] <= MAXINT and p[2] <= MAXINT) then
         return 'a list of pairs {dim1, dim2} of integers >= 1',
                string.format('%s at index %d', holds(p), i)
      end
   end
end


-- ------------------------------------------------------------------ helpers for check functions
-- (relations that need more than an expression: sizes known from sub-modules, string
-- enumerations, sparse tables of modules)

--- schema.sizeIs(t, sizes, explain): nil when t is a tensor of exactly the sizes (a list of
-- numbers), else the expectation ("a tensor of size 40x3 (4 * outputSize x inputSize)") and
-- what the file holds
function schema.sizeIs(t, sizes, explain)
   local ok = torch.isTensor(t) and t:dim() == #sizes
   if ok then
      for i, n in ipairs(sizes) do ok = ok and t:size(i) == n end
   end
   if not ok then
      return 'a tensor ' .. describeSize(sizes) .. (explain and (' (' .. explain .. ')') or ''), holds(t)
   end
end

--- schema.oneOf(values...): a check function for a string (or number) that must be one of values
function schema.oneOf(...)
   local allowed, texts = {}, {}
   for i, v in ipairs({...}) do
      allowed[v] = true
      texts[i] = type(v) == 'string' and string.format('%q', v) or tostring(v)
   end
   local text = 'one of ' .. table.concat(texts, ', ')
   return function(v)
      if not allowed[v] then return text end
   end
end

--- schema.moduleMap: a check for a table whose keys are integers and values nn modules (an
-- rnn module's sharedClones, keyed by time step, may have gaps)
function schema.moduleMap(v)
   for k, m in pairs(v) do
      if not isInt(k) then
         return 'a table of nn modules keyed by integers', string.format('a table with the key %s', holds(k):gsub('^the ', ''))
      end
      if not isModule(m) then
         return 'a table of nn modules keyed by integers', string.format('%s at key %d', holds(m), k)
      end
   end
end

--- schema.reaches(root, obj): whether obj is root or one of the modules root runs (its
-- `modules`, `module`, gModule nodes), for checks of fields the cycle walk does not follow
-- (an rnn module's recurrentModule, a sub-module kept under its own name)
function schema.reaches(root, obj)
   local seen, stack = {}, {root}
   while #stack > 0 do
      local m = table.remove(stack)
      if rawequal(m, obj) then return true end
      if type(m) == 'table' and not seen[m] then
         seen[m] = true
         pushChildren(stack, m)
      end
   end
   return false
end

return schema
