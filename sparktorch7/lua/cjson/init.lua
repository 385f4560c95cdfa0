-- cjson: JSON encoding and decoding with the API and the error messages of lua-cjson 2.1
-- (mpx/lua-cjson, the `cjson` rock Torch7 projects require), in Lua with LuaJIT's FFI.
--
-- Behaviour follows lua-cjson's manual and C source: JSON null is `cjson.null` (one
-- shared sentinel, here a userdata), numbers are written with "%.<precision>g" (14 by
-- default), an empty table encodes as an object, a table whose keys are all positive
-- integers as an array (holes as null), unless it is "excessively sparse"; decoding
-- accepts what C's strtod accepts (NaN, Infinity, hex) while decode_invalid_numbers is on
-- (the default), and stops at a NUL byte as the C parser does. Every function returned by
-- cjson.new() has its own configuration.
local ffi = require 'ffi'
pcall(ffi.cdef, 'double strtod(const char *nptr, char **endptr);')
local C = ffi.C

local byte, sub, format, concat = string.byte, string.sub, string.format, table.concat
local floor, huge = math.floor, math.huge
local type, pairs, next, rawset, rawget, select, tostring = type, pairs, next, rawset, rawget, select, tostring
local error = error

-- JSON null: lua-cjson pushes a NULL lightuserdata; pure Lua cannot make one, so a single
-- userdata shared by every cjson table (cjson.new(), cjson.safe) stands for it.
local null = newproxy(true)
getmetatable(null).__tostring = function() return 'userdata: NULL' end
getmetatable(null).__metatable = false

local VERSION = '2.1devel'

-- errors as luaL_argerror/luaL_error raise them from a C function: no position prefix
local function argerror(i, fname, msg)
   error(format("bad argument #%d to '%s' (%s)", i, fname, msg), 0)
end

local function checkinteger(v, i, fname)
   local n = tonumber(v)
   if n == nil then
      argerror(i, fname, 'number expected, got ' .. (v == nil and 'no value' or type(v)))
   end
   return n >= 0 and floor(n) or -floor(-n)
end

-- ---------------------------------------------------------------- encoding
local escapes = {['"'] = '\\"', ['\\'] = '\\\\', ['/'] = '\\/', ['\b'] = '\\b', ['\t'] = '\\t',
                 ['\n'] = '\\n', ['\f'] = '\\f', ['\r'] = '\\r', ['\127'] = '\\u007f'}
for i = 0, 31 do
   local c = string.char(i)
   if not escapes[c] then escapes[c] = format('\\u%04x', i) end
end
local ESCAPED = '[%c"\\/]'    -- %c: bytes 0-31 and 127
-- the same set as a byte table, scanned through the FFI (a pattern search is not compiled)
local NEEDS = ffi.new('uint8_t[256]')
for i = 0, 31 do NEEDS[i] = 1 end
NEEDS[34], NEEDS[47], NEEDS[92], NEEDS[127] = 1, 1, 1, 1
local u8p = ffi.typeof('const uint8_t *')

local function escaped(s)
   local q = ffi.cast(u8p, s)
   for i = 0, #s - 1 do
      if NEEDS[q[i]] ~= 0 then return (s:gsub(ESCAPED, escapes)) end
   end
   return s
end

local function new_encoder(cfg)
   local buf, n

   local function number(v)
      if v ~= v or v == huge or v == -huge then
         local mode = cfg.encode_invalid_numbers
         if mode == 0 then
            error('Cannot serialise number: must not be NaN or Infinity', 0)
         elseif mode == 1 then
            return v ~= v and 'NaN' or (v > 0 and 'Infinity' or '-Infinity')
         end
         return 'null'
      end
      if cfg.encode_number_precision == 14 then return tostring(v) end   -- LuaJIT's is %.14g
      return format(cfg.number_format, v)
   end

   -- lua-cjson's lua_array_length: the largest key of a pure array, or -1 for an object
   local function array_length(t)
      local max, items = 0, 0
      for k in next, t do
         if type(k) ~= 'number' or k < 1 or floor(k) ~= k then return -1 end
         if k > max then max = k end
         items = items + 1
      end
      local ratio = cfg.encode_sparse_ratio
      if ratio > 0 and max > items * ratio and max > cfg.encode_sparse_safe then
         if not cfg.encode_sparse_convert then
            error('Cannot serialise table: excessively sparse array', 0)
         end
         return -1
      end
      return max
   end

   local value
   function value(v, depth)
      local t = type(v)
      if t == 'string' then
         buf[n + 1] = '"'; buf[n + 2] = escaped(v); buf[n + 3] = '"'; n = n + 3
      elseif t == 'number' then
         n = n + 1; buf[n] = number(v)
      elseif t == 'boolean' then
         n = n + 1; buf[n] = v and 'true' or 'false'
      elseif t == 'nil' or rawequal(v, null) then
         n = n + 1; buf[n] = 'null'
      elseif t == 'table' then
         depth = depth + 1
         if depth > cfg.encode_max_depth then
            error(format('Cannot serialise, excessive nesting (%d)', depth), 0)
         end
         local len = array_length(v)
         if len > 0 then
            n = n + 1; buf[n] = '['
            for i = 1, len do
               if i > 1 then n = n + 1; buf[n] = ',' end
               value(rawget(v, i), depth)
            end
            n = n + 1; buf[n] = ']'
         else
            n = n + 1; buf[n] = '{'
            local first = true
            for k, x in next, v do
               if not first then n = n + 1; buf[n] = ',' end
               first = false
               local kt = type(k)
               if kt == 'string' then
                  buf[n + 1] = '"'; buf[n + 2] = escaped(k); buf[n + 3] = '":'; n = n + 3
               elseif kt == 'number' then
                  n = n + 1; buf[n] = '"' .. number(k) .. '":'
               else
                  error(format('Cannot serialise %s: table key must be a number or string', kt), 0)
               end
               value(x, depth)
            end
            n = n + 1; buf[n] = '}'
         end
      else
         error(format('Cannot serialise %s: type not supported', t), 0)
      end
   end

   return function(...)
      if select('#', ...) ~= 1 then argerror(1, 'encode', 'expected 1 argument') end
      buf, n = {}, 0
      value((...), 0)
      local s = concat(buf, '', 1, n)
      buf = nil
      return s
   end
end

-- ---------------------------------------------------------------- decoding
-- token types, named as lua-cjson names them in its messages
local T_OBJ_BEGIN, T_OBJ_END, T_ARR_BEGIN, T_ARR_END, T_STRING, T_NUMBER, T_BOOLEAN, T_NULL,
      T_COLON, T_COMMA, T_END, T_ERROR = 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12
local TOKEN_NAME = {'T_OBJ_BEGIN', 'T_OBJ_END', 'T_ARR_BEGIN', 'T_ARR_END', 'T_STRING', 'T_NUMBER',
                    'T_BOOLEAN', 'T_NULL', 'T_COLON', 'T_COMMA', 'T_END', 'T_ERROR'}
local SINGLE = {[123] = T_OBJ_BEGIN, [125] = T_OBJ_END, [91] = T_ARR_BEGIN, [93] = T_ARR_END,
                [58] = T_COLON, [44] = T_COMMA, [0] = T_END}
local ESC = {[34] = '"', [92] = '\\', [47] = '/', [98] = '\b', [116] = '\t', [110] = '\n',
             [102] = '\f', [114] = '\r'}
local HEX = {}
for i = 0, 9 do HEX[48 + i] = i end
for i = 0, 5 do HEX[65 + i] = 10 + i; HEX[97 + i] = 10 + i end

local function utf8(cp)
   if cp <= 0x7F then return string.char(cp) end
   if cp <= 0x7FF then
      return string.char(0xC0 + floor(cp / 64), 0x80 + cp % 64)
   end
   if cp <= 0xFFFF then
      return string.char(0xE0 + floor(cp / 4096), 0x80 + floor(cp / 64) % 64, 0x80 + cp % 64)
   end
   return string.char(0xF0 + floor(cp / 262144), 0x80 + floor(cp / 4096) % 64,
                      0x80 + floor(cp / 64) % 64, 0x80 + cp % 64)
end

local function lower(c) return c >= 65 and c <= 90 and c + 32 or c end

local function new_decoder(cfg)
   local s, p, len, pos          -- the text, its bytes, its length, the next byte (0-based)
   local endp = ffi.new('char *[1]')

   local function hex4(i)
      local v = 0
      for j = i, i + 3 do
         local d = HEX[p[j]]
         if d == nil then return -1 end
         v = v * 16 + d
      end
      return v
   end

   -- json_is_invalid_number: forms strtod takes that strict JSON does not
   local function invalid_number(i)
      local c = p[i]
      if c == 43 then return true end                    -- '+'
      if c == 45 then i = i + 1; c = p[i] end            -- '-'
      if c == 48 then                                    -- '0'
         local c2 = p[i + 1]
         return lower(c2) == 120 or (c2 >= 48 and c2 <= 57)
      elseif c <= 57 then
         return false
      end
      return (lower(c) == 105 and lower(p[i + 1]) == 110 and lower(p[i + 2]) == 102)    -- inf
          or (lower(c) == 110 and lower(p[i + 1]) == 97 and lower(p[i + 2]) == 110)     -- nan
   end

   local function number_token(start)
      local v = C.strtod(p + start, endp)
      local stop = endp[0] - (p + start)
      if stop == 0 then return T_ERROR, 'invalid number', start end
      pos = start + tonumber(stop)
      return T_NUMBER, v, start
   end

   -- the 0-based index of the next '"', '\\' or NUL from j, and that byte
   local function scan(j)
      local c = p[j]
      while c ~= 34 and c ~= 92 and c ~= 0 do
         j = j + 1
         c = p[j]
      end
      return j, c
   end

   -- the string token opening at start (a '"'); all indices 0-based
   local function string_token(start)
      local j, c = scan(start + 1)
      if c == 34 then                          -- no escape: the common case
         pos = j + 1
         return T_STRING, sub(s, start + 2, j), start
      end
      local parts, np = {}, 0
      local from = start + 1                   -- the first byte not yet copied
      while true do
         if c == 0 then                         -- the end of the text, or a NUL in it
            pos = j
            return T_ERROR, 'unexpected end of string', j
         end
         if j > from then np = np + 1; parts[np] = sub(s, from + 1, j) end
         if c == 34 then
            pos = j + 1
            return T_STRING, concat(parts, '', 1, np), start
         end
         local e = p[j + 1]                     -- a backslash at j
         if e == 117 then                       -- \uXXXX
            local cp = hex4(j + 2)
            local esclen = 6
            local bad = cp < 0
            if not bad and cp >= 0xD800 and cp <= 0xDFFF then
               if cp >= 0xDC00 or p[j + 6] ~= 92 or p[j + 7] ~= 117 then
                  bad = true
               else
                  local lo = hex4(j + 8)
                  if lo < 0xDC00 or lo > 0xDFFF then
                     bad = true
                  else
                     cp = (cp - 0xD800) * 1024 + (lo - 0xDC00) + 0x10000
                     esclen = 12
                  end
               end
            end
            if bad then
               pos = j
               return T_ERROR, 'invalid unicode escape code', j
            end
            np = np + 1; parts[np] = utf8(cp)
            from = j + esclen
         else
            local ch = ESC[e]
            if ch == nil then
               pos = j
               return T_ERROR, 'invalid escape code', j
            end
            np = np + 1; parts[np] = ch
            from = j + 2
         end
         j, c = scan(from)
      end
   end

   -- json_next_token: type, value, 0-based index of the token
   local function next_token()
      local c = p[pos]
      while c == 32 or c == 10 or c == 13 or c == 9 do
         pos = pos + 1; c = p[pos]
      end
      local start = pos
      local t = SINGLE[c]
      if t then
         if t ~= T_END then pos = pos + 1 end
         return t, nil, start
      end
      if c == 34 then
         return string_token(start)
      elseif c == 45 or (c >= 48 and c <= 57) then
         if not cfg.decode_invalid_numbers and invalid_number(start) then
            return T_ERROR, 'invalid number', start
         end
         return number_token(start)
      elseif c == 116 and p[pos + 1] == 114 and p[pos + 2] == 117 and p[pos + 3] == 101 then
         pos = pos + 4
         return T_BOOLEAN, true, start
      elseif c == 102 and p[pos + 1] == 97 and p[pos + 2] == 108 and p[pos + 3] == 115 and p[pos + 4] == 101 then
         pos = pos + 5
         return T_BOOLEAN, false, start
      elseif c == 110 and p[pos + 1] == 117 and p[pos + 2] == 108 and p[pos + 3] == 108 then
         pos = pos + 4
         return T_NULL, nil, start
      elseif (c == 43 or c == 105 or c == 73 or c == 110 or c == 78) and cfg.decode_invalid_numbers
            and invalid_number(start) then
         return number_token(start)
      end
      return T_ERROR, 'invalid token', start
   end

   local function parse_error(expected, t, v, idx)
      s, p = nil, nil
      error(format('Expected %s but found %s at character %d', expected,
                   t == T_ERROR and v or TOKEN_NAME[t], idx + 1), 0)
   end

   local depth
   local function descend()
      depth = depth + 1
      if depth > cfg.decode_max_depth then
         local at = pos
         s, p = nil, nil
         error(format('Found too many nested data structures (%d) at character %d', depth, at), 0)
      end
   end

   local value
   local function object()
      descend()
      local obj = {}
      local t, v, idx = next_token()
      if t == T_OBJ_END then depth = depth - 1; return obj end
      while true do
         if t ~= T_STRING then parse_error('object key string', t, v, idx) end
         local key = v
         t, v, idx = next_token()
         if t ~= T_COLON then parse_error('colon', t, v, idx) end
         rawset(obj, key, value(next_token()))
         t, v, idx = next_token()
         if t == T_OBJ_END then depth = depth - 1; return obj end
         if t ~= T_COMMA then parse_error('comma or object end', t, v, idx) end
         t, v, idx = next_token()
      end
   end

   local function array()
      descend()
      local arr = {}
      local t, v, idx = next_token()
      if t == T_ARR_END then depth = depth - 1; return arr end
      local i = 1
      while true do
         arr[i] = value(t, v, idx)
         t, v, idx = next_token()
         if t == T_ARR_END then depth = depth - 1; return arr end
         if t ~= T_COMMA then parse_error('comma or array end', t, v, idx) end
         t, v, idx = next_token()
         i = i + 1
      end
   end

   function value(t, v, idx)
      if t == T_STRING or t == T_NUMBER or t == T_BOOLEAN then return v end
      if t == T_OBJ_BEGIN then return object() end
      if t == T_ARR_BEGIN then return array() end
      if t == T_NULL then return null end
      parse_error('value', t, v, idx)
   end

   return function(...)
      if select('#', ...) ~= 1 then argerror(1, 'decode', 'expected 1 argument') end
      local text = ...
      local tt = type(text)
      if tt == 'number' then
         text = tostring(text)
      elseif tt ~= 'string' then
         argerror(1, 'decode', 'string expected, got ' .. (text == nil and 'nil' or tt))
      end
      len = #text
      if len >= 2 and (byte(text, 1) == 0 or byte(text, 2) == 0) then
         error('JSON parser does not support UTF-16 or UTF-32', 0)
      end
      s, p, pos, depth = text, ffi.cast('const uint8_t *', text), 0, 0
      local result = value(next_token())
      local t, v, idx = next_token()
      if t ~= T_END then parse_error('the end', t, v, idx) end
      s, p = nil, nil
      return result
   end
end

-- ---------------------------------------------------------------- configuration
local function arg_init(fname, nmax, ...)
   if select('#', ...) > nmax then argerror(nmax + 1, fname, 'found too many arguments') end
end

local function integer_option(fname, v, i, cfg, key, min, max)
   if v ~= nil then
      local n = checkinteger(v, i, fname)
      if n < min or n > max then
         argerror(1, fname, format('expected integer between %d and %d', min, max))
      end
      cfg[key] = n
   end
   return cfg[key]
end

-- a boolean option: true/false or 'on'/'off'
local function bool_option(fname, v, i, cfg, key)
   if v ~= nil then
      if type(v) == 'boolean' then
         cfg[key] = v
      elseif type(v) == 'string' or type(v) == 'number' then
         v = tostring(v)
         if v == 'on' then cfg[key] = true
         elseif v == 'off' then cfg[key] = false
         else argerror(i, fname, "invalid option '" .. v .. "'") end
      else
         argerror(i, fname, 'string expected, got ' .. type(v))
      end
   end
   return cfg[key]
end

local function new()
   local cfg = {
      encode_sparse_convert = false, encode_sparse_ratio = 2, encode_sparse_safe = 10,
      encode_max_depth = 1000, decode_max_depth = 1000,
      encode_invalid_numbers = 0, decode_invalid_numbers = true,
      encode_keep_buffer = true, encode_number_precision = 14, number_format = '%.14g',
   }
   local cjson = {null = null, _NAME = 'cjson', _VERSION = VERSION}
   cjson.encode = new_encoder(cfg)
   cjson.decode = new_decoder(cfg)

   function cjson.encode_sparse_array(...)
      arg_init('encode_sparse_array', 3, ...)
      local convert, ratio, safe = ...
      return bool_option('encode_sparse_array', convert, 1, cfg, 'encode_sparse_convert'),
             integer_option('encode_sparse_array', ratio, 2, cfg, 'encode_sparse_ratio', 0, 2147483647),
             integer_option('encode_sparse_array', safe, 3, cfg, 'encode_sparse_safe', 0, 2147483647)
   end
   function cjson.encode_max_depth(...)
      arg_init('encode_max_depth', 1, ...)
      return integer_option('encode_max_depth', (...), 1, cfg, 'encode_max_depth', 1, 2147483647)
   end
   function cjson.decode_max_depth(...)
      arg_init('decode_max_depth', 1, ...)
      return integer_option('decode_max_depth', (...), 1, cfg, 'decode_max_depth', 1, 2147483647)
   end
   function cjson.encode_number_precision(...)
      arg_init('encode_number_precision', 1, ...)
      local n = integer_option('encode_number_precision', (...), 1, cfg, 'encode_number_precision', 1, 14)
      cfg.number_format = '%.' .. n .. 'g'
      return n
   end
   function cjson.encode_keep_buffer(...)
      -- lua-cjson keeps its encode buffer between calls; a Lua encoder has none to keep,
      -- so this is only a setting that reads back
      arg_init('encode_keep_buffer', 1, ...)
      return bool_option('encode_keep_buffer', (...), 1, cfg, 'encode_keep_buffer')
   end
   function cjson.encode_invalid_numbers(...)
      arg_init('encode_invalid_numbers', 1, ...)
      local v = ...
      if v ~= nil then
         if type(v) == 'boolean' then
            cfg.encode_invalid_numbers = v and 1 or 0
         elseif type(v) == 'string' or type(v) == 'number' then
            local m = ({off = 0, on = 1, null = 2})[tostring(v)]
            if m == nil then argerror(1, 'encode_invalid_numbers', "invalid option '" .. tostring(v) .. "'") end
            cfg.encode_invalid_numbers = m
         else
            argerror(1, 'encode_invalid_numbers', 'string expected, got ' .. type(v))
         end
      end
      local m = cfg.encode_invalid_numbers
      if m == 2 then return 'null' end
      return m == 1
   end
   function cjson.decode_invalid_numbers(...)
      arg_init('decode_invalid_numbers', 1, ...)
      return bool_option('decode_invalid_numbers', (...), 1, cfg, 'decode_invalid_numbers')
   end
   cjson.new = new
   return cjson
end

return new()
