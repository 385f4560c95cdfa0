-- nn.fastpaths: faster bodies for methods that real projects define in their own Lua code,
-- recognized by their source text. When a class method is assigned (torch._methodHooks) and
-- its body, read from its file, has a known fingerprint, the class gets a wrapper that
-- computes the same thing another way, falling back to the project's own function for
-- anything it does not cover. Only the exact known text is replaced: an edited copy, or any
-- other class of the same name, runs as written. fastpaths.enabled = false turns every
-- wrapper into a plain call of the project's function.
--
-- Known bodies:
--   torch-rnn's nn.LSTM:updateOutput (jcjohnson/torch-rnn LSTM.lua): per time step two
--   addmm (input and hidden projections) and the gates in Lua. Here the projections of all
--   steps are one GEMM and the time loop runs in NumPy (sparktorch7._rnn_ops.torch_rnn_lstm),
--   filling output, cell and gates as the original does (to rounding: 1e-6 in double).
local bit = require 'bit'

local fastpaths = {enabled = true}

-- FNV-1a over s with a 32-bit offset basis
local function fnv(s, basis)
   local h = basis
   for i = 1, #s do
      h = bit.bxor(h, s:byte(i))
      h = bit.tobit(h * 16777619)
   end
   return bit.tohex(h)
end

-- The body of a Lua function (its lines after the `function` line), each stripped, empty ones
-- dropped; nil when its file cannot be read.
local function bodyOf(fn)
   local info = debug.getinfo(fn, 'S')
   if not info or type(info.source) ~= 'string' or info.source:sub(1, 1) ~= '@' or info.what ~= 'Lua' then
      return nil
   end
   local first, last = info.linedefined, info.lastlinedefined
   if not first or not last or last <= first then return nil end
   local f = io.open(info.source:sub(2), 'r')
   if not f then return nil end
   local lines, n = {}, 0
   for line in f:lines() do
      n = n + 1
      if n > last then break end
      if n > first then
         line = line:match('^%s*(.-)%s*$')
         if line ~= '' then lines[#lines + 1] = line end
      end
   end
   f:close()
   return table.concat(lines, '\n')
end

-- fingerprint(fn): a string naming the function's body text, or nil
function fastpaths.fingerprint(fn)
   local body = bodyOf(fn)
   if not body then return nil end
   return #body .. ':' .. fnv(body, 0x811c9dc5) .. fnv(body, 0x01000193)
end

local known = {}           -- 'Class.method' -> {fingerprint -> {name =, make = function(original)}}

-- register(fingerprint, className, method, name, make): make(original) returns the fast body
function fastpaths.register(fingerprint, className, method, name, make)
   local key = className .. '.' .. method
   known[key] = known[key] or {}
   known[key][fingerprint] = {name = name, make = make}
end

-- which fast body a class method got: fastpaths.installed['nn.LSTM.updateOutput'] = 'torch-rnn LSTM';
-- fastpaths.runs[name]: how many calls the fast body computed itself (not handed back)
fastpaths.installed = {}
fastpaths.runs = {}

local function hook(className, key, fn)
   local candidates = known[className .. '.' .. key]
   if not candidates then return nil end          -- the common case: no file is read
   local fp = fastpaths.fingerprint(fn)
   local k = fp and candidates[fp]
   if not k then
      fastpaths.installed[className .. '.' .. key] = nil
      return nil
   end
   fastpaths.installed[className .. '.' .. key] = k.name
   local fast = k.make(fn)
   return function(...)
      if fastpaths.enabled then return fast(...) end
      return fn(...)
   end
end

local hooks = rawget(torch, '_methodHooks')
if hooks then
   local present = false
   for _, h in ipairs(hooks) do present = present or h == hook end
   if not present then hooks[#hooks + 1] = hook end
end

-- ------------------------------------------------------------------ torch-rnn's nn.LSTM
local kernels = require('nn.kernels')

local FLOATS = {['torch.FloatTensor'] = true, ['torch.DoubleTensor'] = true}

-- The state before the first step, as torch-rnn's updateOutput makes it: the given one, zeros,
-- or (remember_states) the last step of the previous forward. `last` is self.cell or self.output.
local function startState(self, given, field, last, N, H, msg)
   if given then return given end
   local s = self[field]
   if s:nElement() == 0 or not self.remember_states then
      s:resize(N, H):zero()
   else
      local prevN, prevT = last:size(1), last:size(2)
      assert(prevN == N, msg)
      s:copy(last[{{}, prevT}])
   end
   return s
end

local function torchRnnLstm(original)
   return function(self, input)
      local c0, h0, x = self:_unpack_input(input)
      local N, T, D, H = self:_get_sizes(input)
      local tn = torch.type(self.weight)
      local same = kernels.available and FLOATS[tn] and torch.type(x) == tn and torch.type(self.bias) == tn
         and torch.type(self.output) == tn and torch.type(self.cell) == tn and torch.type(self.gates) == tn
         and (c0 == nil or torch.type(c0) == tn) and (h0 == nil or torch.type(h0) == tn)
         and (c0 ~= nil or torch.type(self.c0) == tn) and (h0 ~= nil or torch.type(self.h0) == tn)
         and x:storage() ~= self.output:storage() and x:storage() ~= self.cell:storage()
      if not same then return original(self, input) end
      self.recompute_backward = true
      self._return_grad_c0 = (c0 ~= nil)
      self._return_grad_h0 = (h0 ~= nil)
      c0 = startState(self, c0, 'c0', self.cell, N, H, 'batch sizes must be constant to remember states')
      h0 = startState(self, h0, 'h0', self.output, N, H, 'batch sizes must be the same to remember states')
      local h, c = self.output, self.cell
      h:resize(N, T, H)
      c:resize(N, T, H)
      self.gates:resize(N, T, 4 * H)
      if N > 0 and T > 0 then
         kernels.torch_rnn_lstm(h, c, self.gates, x, h0, c0, self.weight, self.bias)
      end
      fastpaths.runs['torch-rnn LSTM'] = (fastpaths.runs['torch-rnn LSTM'] or 0) + 1
      return self.output
   end
end

-- torch-rnn @ 6e72b866 (and copies of its LSTM.lua): layer:updateOutput
fastpaths.register('1692:87a56c5af6b10e24', 'nn.LSTM', 'updateOutput', 'torch-rnn LSTM', torchRnnLstm)

return fastpaths
