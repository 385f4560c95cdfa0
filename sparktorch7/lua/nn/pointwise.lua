-- Plumbing shared by the elementwise modules: each module loops over plain
-- contiguous memory (FFI pointers), written out in its own file so that every
-- loop is compiled for its own operation.
--
--   local y, x, n, back = pointwise.begin(self, input, 'nn.Tanh')
--   for i = 0, n - 1 do y[i] = math.tanh(x[i]) end
--   return pointwise.finish(self, input, back)
local kernels = require('nn.kernels')
local pointwise = {}

-- Makes self.output (or the input itself when self.inplace) ready to receive
-- f(input) elementwise. Returns the output pointer, the input pointer, the
-- number of elements and, for an in-place op on a non-contiguous input, the
-- temporary to copy back.
function pointwise.begin(self, input, name)
   if not torch.isTensor(input) then
      error(string.format('<%s> input must be a tensor, not a %s', name, torch.type(input)), 3)
   end
   local n = input:nElement()
   if self.inplace then
      if input:isContiguous() then
         self.output = input
         local p = input:data()
         return p, p, n, nil
      end
      local x = input:contiguous()   -- the caller keeps it (to copy back)
      return x:data(), x:data(), n, x
   end
   -- a contiguous copy of the input must outlive this call: the caller loops over its pointer
   return kernels.output(self, input):data(), pointwise.contiguous(input):data(), n, nil
end

function pointwise.finish(self, input, back)
   if back then
      input:copy(back)
      self.output = input
   end
   return self.output
end

-- A contiguous version of t (t itself when it already is).
-- A contiguous copy lives as long as the tensor it was made from (a weak-keyed table):
-- callers take :data() of the result and loop over that pointer, and an FFI pointer does
-- not keep its tensor alive, so an unreferenced copy could be collected mid-loop and the
-- loop would read freed memory. (The copy holds no reference to its source.)
local copies = setmetatable({}, {__mode = 'k'})

function pointwise.contiguous(t)
   if t:isContiguous() then
      return t
   end
   local c = t:contiguous()
   copies[t] = c
   return c
end

-- The data pointer of a module's parameter (contiguous), after checking that it holds the
-- n elements the caller's loop reads: a parameter smaller than the module's sizes say
-- (a forged or corrupt file) is an error, never a read past its storage.
function pointwise.paramData(t, n, name, field)
   if not torch.isTensor(t) then
      error(string.format('<%s> %s must be a tensor, not a %s', name, field, torch.type(t)), 3)
   end
   if t:nElement() < n then
      error(string.format('<%s> %s has %d elements, the module needs %d', name, field, t:nElement(), n), 3)
   end
   return pointwise.contiguous(t):data()
end

-- The (frames, size, stride) layout Torch7 softmaxes use: over the only
-- dimension of a 1D input, dimension 2 of a batch (2D), the channels (dim 1)
-- of a 3D input and dimension 2 of a 4D one.
function pointwise.softmaxLayout(input, name)
   local d = input:dim()
   if input:nElement() == 0 then
      return 0, 0, 1
   elseif d == 1 then
      return 1, input:size(1), 1
   elseif d == 2 then
      return input:size(1), input:size(2), 1
   elseif d == 3 then
      return 1, input:size(1), input:size(2) * input:size(3)
   elseif d == 4 then
      return input:size(1), input:size(2), input:size(3) * input:size(4)
   end
   error(string.format('<%s> input must be 1D, 2D, 3D or 4D, not %dD', name, d), 3)
end

local exp, log = math.exp, math.log

-- y = softmax(sign * x) (or its log) along the middle dimension of a
-- contiguous (frames, size, stride) layout.
function pointwise.softmax(y, x, frames, size, stride, sign, takeLog)
   for f = 0, frames - 1 do
      local base = f * size * stride
      for k = 0, stride - 1 do
         local first = base + k
         local maxv = -math.huge
         for j = 0, size - 1 do
            local v = sign * x[first + j * stride]
            if v > maxv then maxv = v end
         end
         local sum = 0
         for j = 0, size - 1 do
            sum = sum + exp(sign * x[first + j * stride] - maxv)
         end
         if takeLog then
            local shift = maxv + log(sum)
            for j = 0, size - 1 do
               local idx = first + j * stride
               y[idx] = sign * x[idx] - shift
            end
         else
            for j = 0, size - 1 do
               local idx = first + j * stride
               y[idx] = exp(sign * x[idx] - maxv) / sum
            end
         end
      end
   end
end

-- Calls visit(i, j) for every element i (0-based, row-major) of a contiguous
-- tensor of sizes `sizes`, with j the offset in a contiguous tensor of sizes
-- `psizes` broadcast to `sizes` (dimensions of size 1 repeat; psizes has as
-- many dimensions as sizes).
function pointwise.broadcastOffsets(sizes, psizes, visit)
   local d = #sizes
   local pstride, acc = {}, 1
   for k = d, 1, -1 do
      pstride[k] = (psizes[k] == 1 and sizes[k] ~= 1) and 0 or acc
      acc = acc * psizes[k]
   end
   local total = 1
   for k = 1, d do total = total * sizes[k] end
   local idx = {}
   for k = 1, d do idx[k] = 0 end
   local j = 0
   for i = 0, total - 1 do
      visit(i, j)
      local k = d
      while k >= 1 do
         idx[k] = idx[k] + 1
         j = j + pstride[k]
         if idx[k] < sizes[k] then break end
         j = j - pstride[k] * sizes[k]
         idx[k] = 0
         k = k - 1
      end
   end
end

-- How a parameter p lines up with an input x of n elements: 'cycle' when p matches x
-- elementwise or per row of a batch (x is rows x p:nElement(): p repeats every
-- p:nElement() elements), 'broadcast' when p has as many dimensions as x and its sizes
-- are x's or 1 (repeated). Anything else is an error naming the module (at `level`).
function pointwise.paramLayout(input, param, n, name, level)
   local np = param:nElement()
   if np == n or (input:dim() > 1 and param:dim() ~= input:dim() and n == input:size(1) * np) then
      return 'cycle'
   elseif param:dim() == input:dim() then
      local sizes, psizes = input:size():totable(), param:size():totable()
      for k = 1, #sizes do
         if psizes[k] ~= sizes[k] and psizes[k] ~= 1 then
            error(string.format('<%s> parameter of size %s does not broadcast to input of size %s',
                                name, table.concat(psizes, 'x'), table.concat(sizes, 'x')), level + 1)
         end
      end
      return 'broadcast'
   end
   error(string.format('<%s> size mismatch: input of %d elements does not match a parameter of %d',
                       name, n, np), level + 1)
end

-- Calls visit(i, j) for every element i of a contiguous x (0-based) with j the element
-- of the parameter it meets (see paramLayout).
function pointwise.eachParam(input, param, n, name, visit)
   local np = param:nElement()
   if pointwise.paramLayout(input, param, n, name, 4) == 'cycle' then
      local i = 0
      while i < n do
         for j = 0, np - 1 do
            visit(i, j)
            i = i + 1
         end
      end
   else
      pointwise.broadcastOffsets(input:size():totable(), param:size():totable(), visit)
   end
end

-- y = x (op) p where the parameter p matches x (see paramLayout). op is 'mul' or 'add'.
function pointwise.applyParam(self, input, param, op, name)
   local y, x, n, back = pointwise.begin(self, input, name)
   local pc = pointwise.contiguous(param)
   local p, np = pc:data(), pc:nElement()
   local mul = op == 'mul'
   if pointwise.paramLayout(input, param, n, name, 3) == 'cycle' then
      local i = 0
      while i < n do
         for j = 0, np - 1 do
            if mul then y[i] = x[i] * p[j] else y[i] = x[i] + p[j] end
            i = i + 1
         end
      end
   else
      pointwise.broadcastOffsets(input:size():totable(), param:size():totable(), function(i, j)
         if mul then y[i] = x[i] * p[j] else y[i] = x[i] + p[j] end
      end)
   end
   return pointwise.finish(self, input, back)
end

-- The gradient of a parameter p applied by applyParam: self[field] (made, as zeros, when
-- missing) gets scale * sum over the elements of x that met p[j] of dE/dy (times x for
-- 'mul'), and for 'mul' gradInput = dE/dy p; for 'add' gradInput is dE/dy (gradInput=true).
function pointwise.accParam(self, input, gradOutput, param, field, op, scale, name)
   local n = input:nElement()
   if not torch.isTensor(gradOutput) or gradOutput:nElement() ~= n then
      error(string.format('<%s> gradOutput must be a tensor of %d elements (the input\'s): run forward on this input first',
                          name, n), 3)
   end
   local g = self[field]
   if not torch.isTensor(g) or torch.type(g) ~= torch.type(param) or g:nElement() ~= param:nElement() then
      g = param.new():resizeAs(param):zero()
      self[field] = g
   end
   local gc = pointwise.contiguous(g)
   local gp = gc:data()
   local go = pointwise.contiguous(gradOutput):data()
   scale = scale or 1
   if op == 'mul' then
      local x = pointwise.contiguous(input):data()
      pointwise.eachParam(input, param, n, name, function(i, j) gp[j] = gp[j] + scale * x[i] * go[i] end)
   else
      pointwise.eachParam(input, param, n, name, function(i, j) gp[j] = gp[j] + scale * go[i] end)
   end
   if gc ~= g then
      g:copy(gc)
   end
end

-- gradInput of applyParam's 'mul': dE/dx = dE/dy p, elementwise as forward paired them.
function pointwise.gradParamMul(self, input, gradOutput, param, name)
   local gi, go, n, back = pointwise.beginGrad(self, input, gradOutput, name)
   local p = pointwise.contiguous(param):data()
   pointwise.eachParam(input, param, n, name, function(i, j) gi[i] = go[i] * p[j] end)
   return pointwise.finishGrad(self, gradOutput, back)
end

-- gradInput = gradOutput, copied into a tensor shaped like input (modules that add to
-- their input, or pass it through, and must not hand back the caller's gradOutput).
function pointwise.gradCopy(self, input, gradOutput, name)
   local gi, go, n, back = pointwise.beginGrad(self, input, gradOutput, name)
   if gi ~= go then
      for i = 0, n - 1 do gi[i] = go[i] end
   end
   return pointwise.finishGrad(self, gradOutput, back)
end

-- A tensor sharing t's memory with the given sizes and strides (Lua lists).
function pointwise.viewOf(t, sizes, strides)
   local v = nn.utils.newLike(t)
   if #sizes == 0 then
      return v
   end
   v:set(t:storage(), t:storageOffset(), torch.LongStorage(sizes), torch.LongStorage(strides))
   return v
end

-- Resolves a dimension argument the way Torch7 modules do: negative counts
-- from the end; with nInputDims given, a batch input (one more dimension)
-- shifts it by one.
function pointwise.dimension(dim, nInputDims, ndim)
   if dim < 0 then
      return ndim + dim + 1
   elseif nInputDims and ndim == nInputDims + 1 then
      return dim + 1
   end
   return dim
end

-- (outer, size, inner) of a contiguous tensor around dimension dim
function pointwise.around(t, dim)
   local outer, inner = 1, 1
   for k = 1, dim - 1 do outer = outer * t:size(k) end
   for k = dim + 1, t:dim() do inner = inner * t:size(k) end
   return outer, t:size(dim), inner
end

-- The two tensors of a {a, b} input as contiguous 2D batches of rows of the
-- same size (a 1D pair becomes one row).
function pointwise.pairRows(input, name)
   if type(input) ~= 'table' or not torch.isTensor(input[1]) or not torch.isTensor(input[2]) then
      error(string.format('<%s> input must be a table of two tensors', name), 3)
   end
   local a, b = input[1], input[2]
   if a:nElement() ~= b:nElement() or a:dim() ~= b:dim() or (a:dim() ~= 1 and a:dim() ~= 2) then
      error(string.format('<%s> input tensors must be both 1D or both 2D, of one size', name), 3)
   end
   a, b = pointwise.contiguous(a), pointwise.contiguous(b)
   if a:dim() == 1 then
      local s = torch.LongStorage({1, a:size(1)})
      a, b = a:view(s), b:view(s)
   end
   return a, b
end

-- The first tensor of a table input, checked.
function pointwise.firstOfTable(input, name)
   if type(input) ~= 'table' or not torch.isTensor(input[1]) then
      error(string.format('<%s> input must be a table of tensors', name), 3)
   end
   return input[1]
end

-- t as a contiguous tensor, checked to have as many elements as first.
function pointwise.sameShape(t, first, k, name)
   if not torch.isTensor(t) or t:nElement() ~= first:nElement() then
      error(string.format('<%s> tensor %d does not have the size of tensor 1', name, k), 3)
   end
   return pointwise.contiguous(t)
end

-- The backward passes' plumbing for elementwise modules, like begin/finish:
--
--   local gi, go, n, back = pointwise.beginGrad(self, input, gradOutput, 'nn.Abs')
--   local x = pointwise.contiguous(input):data()
--   for i = 0, n - 1 do gi[i] = ... end
--   return pointwise.finishGrad(self, gradOutput, back)
--
-- gradOutput must be a tensor of as many elements as input. self.gradInput becomes a
-- contiguous tensor like input (never the input, the output or gradOutput itself); for
-- an in-place module it is gradOutput, written over as Torch7 does (through a
-- contiguous copy that finishGrad copies back when gradOutput is not contiguous).
function pointwise.beginGrad(self, input, gradOutput, name)
   if not torch.isTensor(input) then
      error(string.format('<%s> input must be a tensor, not a %s', name, torch.type(input)), 3)
   end
   if not torch.isTensor(gradOutput) then
      error(string.format('<%s> gradOutput must be a tensor, not a %s', name, torch.type(gradOutput)), 3)
   end
   local n = input:nElement()
   if gradOutput:nElement() ~= n then
      error(string.format('<%s> gradOutput has %d elements but input has %d: run forward on this input first',
                          name, gradOutput:nElement(), n), 3)
   end
   local go = pointwise.contiguous(gradOutput)
   if self.inplace then
      if go == gradOutput then
         self.gradInput = gradOutput
         local p = gradOutput:data()
         return p, p, n, nil
      end
      return go:data(), go:data(), n, go
   end
   return pointwise.gradLike(self, input, gradOutput):data(), go:data(), n, nil
end

function pointwise.finishGrad(self, gradOutput, back)
   if back then
      gradOutput:copy(back)
      self.gradInput = gradOutput
   end
   return self.gradInput
end

-- The data of self.output (contiguous) for a backward pass that reads it, after checking
-- that it holds the n elements of the input the gradient is asked for.
function pointwise.outputData(self, n, name)
   local out = self.output
   if not torch.isTensor(out) or out:nElement() ~= n then
      error(string.format('<%s> the output holds %s elements, the input %d: run forward on this input first',
                          name, torch.isTensor(out) and tostring(out:nElement()) or 'no', n), 3)
   end
   return pointwise.contiguous(out):data()
end

-- gradInput of the softmaxes from their output y, along the middle dimension of a
-- contiguous (frames, size, stride) layout: gi = sign * y (g - sum g y), or for the log
-- version gi = g - exp(y) sum g.
function pointwise.softmaxGrad(gi, go, y, frames, size, stride, sign, takeLog)
   local exp = math.exp
   for f = 0, frames - 1 do
      local base = f * size * stride
      for k = 0, stride - 1 do
         local first = base + k
         local sum = 0
         if takeLog then
            for j = 0, size - 1 do
               sum = sum + go[first + j * stride]
            end
            for j = 0, size - 1 do
               local idx = first + j * stride
               gi[idx] = go[idx] - exp(y[idx]) * sum
            end
         else
            for j = 0, size - 1 do
               local idx = first + j * stride
               sum = sum + go[idx] * y[idx]
            end
            for j = 0, size - 1 do
               local idx = first + j * stride
               gi[idx] = sign * y[idx] * (go[idx] - sum)
            end
         end
      end
   end
end

-- gradInput of a module whose output is a view (or a copy) of its input with other
-- sizes: gradOutput seen with the input's sizes (a contiguous copy first when needed).
function pointwise.viewGrad(self, input, gradOutput, name)
   if not torch.isTensor(gradOutput) or gradOutput:nElement() ~= input:nElement() then
      error(string.format('<%s> gradOutput must be a tensor of %d elements (the input\'s), got %s: '
                          .. 'run forward on this input first', name, input:nElement(),
                          torch.isTensor(gradOutput) and table.concat(gradOutput:size():totable(), 'x')
                          or torch.type(gradOutput)), 3)
   end
   self.gradInput = pointwise.contiguous(gradOutput):view(input:size())
   return self.gradInput
end

-- self.gradInput made a contiguous tensor shaped like input, its contents undefined: a
-- fresh one when it would alias the input, the output or gradOutput.
function pointwise.gradLike(self, input, gradOutput)
   local gi = self.gradInput
   if not torch.isTensor(gi) or torch.type(gi) ~= torch.type(input) or gi == input
         or gi == gradOutput or gi == self.output then
      gi = nn.utils.newLike(input)
   end
   gi:resizeAs(input)
   if not gi:isContiguous() then
      gi = nn.utils.newLike(input):resizeAs(input)
   end
   self.gradInput = gi
   return gi
end

-- gradLike filled with zeros, for the modules that copy part of their input.
function pointwise.zeroGrad(self, input, gradOutput)
   return pointwise.gradLike(self, input, gradOutput):zero()
end

-- For the modules of a table input: self.gradInput made a table, and its slot k zeros
-- shaped like t (a fresh tensor when it would alias t or gradOutput).
function pointwise.zeroGradAt(self, k, t, gradOutput)
   if type(self.gradInput) ~= 'table' or torch.isTensor(self.gradInput) then
      self.gradInput = {}
   end
   local g = pointwise.zeroGrad({gradInput = self.gradInput[k]}, t, gradOutput)
   self.gradInput[k] = g
   return g
end

-- For the modules of a pair {a, b} of 1D tensors or 2D batches of rows: self.gradInput
-- made a table of two contiguous tensors shaped like a and b (as contiguous rows,
-- pairRows's view), and gradOutput checked to hold one value per row. Returns the two
-- gradient pointers, the gradOutput pointer, rows and row length.
function pointwise.pairGrad(self, input, gradOutput, name)
   local a = pointwise.pairRows(input, name)
   local rows, n = a:size(1), a:size(2)
   if not torch.isTensor(gradOutput) or gradOutput:nElement() ~= rows then
      error(string.format('<%s> gradOutput must hold one value per row (%d): run forward on this input first',
                          name, rows), 3)
   end
   if type(self.gradInput) ~= 'table' or torch.isTensor(self.gradInput) then
      self.gradInput = {}
   end
   local g = {}
   for k = 1, 2 do
      local holder = {gradInput = self.gradInput[k]}
      g[k] = pointwise.gradLike(holder, input[k], gradOutput)
      self.gradInput[k] = g[k]
   end
   return g[1]:data(), g[2]:data(), pointwise.contiguous(gradOutput):data(), rows, n
end

-- gradInput of HardShrink and SoftShrink: dE/dy where |x| > lambda, else 0
function pointwise.shrinkGrad(self, input, gradOutput)
   local gi, go, n, back = pointwise.beginGrad(self, input, gradOutput, torch.type(self))
   local x = pointwise.contiguous(input):data()
   local l = self.lambda
   for i = 0, n - 1 do
      local v = x[i]
      if v > l or v < -l then gi[i] = go[i] else gi[i] = 0 end
   end
   return pointwise.finishGrad(self, gradOutput, back)
end

return pointwise
