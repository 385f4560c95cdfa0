-- Shared plumbing of the spatial modules: argument checks with Torch7's messages and
-- output sizes. Their kernels and output buffers are nn/kernels.lua's.
local ops = {}

function ops.sizestr(t)
   local s = {}
   for i = 1, t:dim() do s[i] = tostring(t:size(i)) end
   return table.concat(s, 'x')
end

-- '<nn.X> message' raised at the caller of the module method (level 3 from here).
function ops.fail(self, fmt, ...)
   error(string.format('<%s> ' .. fmt, torch.type(self), ...), 3)
end

-- Input must be a tensor of one of the accepted dims; returns its dim.
function ops.checkDim(self, input, lo, hi, what)
   if not torch.isTensor(input) then
      error(string.format('<%s> %s tensor expected for input, but got a %s', torch.type(self),
                          what, torch.type(input)), 3)
   end
   local d = input:dim()
   if d >= lo and d <= hi and input:nElement() == 0 then
      error(string.format('<%s> non-empty %s tensor expected for input, but got: [%s of size %s]',
                          torch.type(self), what, torch.type(input), ops.sizestr(input)), 3)
   end
   if d < lo or d > hi then
      error(string.format('<%s> %s tensor expected for input, but got: [%s of size %s]',
                          torch.type(self), what, torch.type(input),
                          d == 0 and 'empty' or ops.sizestr(input)), 3)
   end
   return d
end

function ops.checkPlanes(self, input, dim, expected, name)
   local got = input:size(dim)
   if got ~= expected then
      error(string.format('<%s> size mismatch: input has %d planes in dimension %d, but %s = %d',
                          torch.type(self), got, dim, name or 'nInputPlane', expected), 3)
   end
end

-- Tensors that take part in a computation with input must share its type.
function ops.checkType(self, input, name, t)
   if t ~= nil and torch.type(t) ~= torch.type(input) then
      error(string.format('<%s> input is a %s but %s is a %s: convert the module with '
                          .. ':float() or :double() to match', torch.type(self),
                          torch.type(input), name, torch.type(t)), 3)
   end
end

-- Output length of a pooling window along one axis, as THNN computes it: floor or
-- ceil of (size + 2*pad - extent) / stride, plus one; with clampLast (THNN, when
-- there is padding) the last window must start inside the image or left padding.
function ops.poolSize(size, k, d, pad, dil, ceil, clampLast)
   local span = size + 2 * pad - (dil * (k - 1) + 1)
   local o
   if ceil then
      o = math.ceil(span / d) + 1
   else
      o = math.floor(span / d) + 1
   end
   if clampLast and (o - 1) * d >= size + pad then
      o = o - 1
   end
   return o
end

-- Sizes for an output that keeps input's leading (batch) dims and replaces the
-- trailing #tail ones.
function ops.withTail(input, keep, tail)
   local s = {}
   for i = 1, keep do s[i] = input:size(i) end
   for _, v in ipairs(tail) do s[#s + 1] = v end
   return s
end

-- The backward passes' plumbing: gradOutput must be a tensor of the output's size
-- and input's type; self.gradInput is sized like input.
function ops.checkGradOutput(self, input, gradOutput, output)
   output = output or self.output
   if not torch.isTensor(gradOutput) then
      error(string.format('<%s> gradOutput must be a tensor, got a %s', torch.type(self),
                          torch.type(gradOutput)), 3)
   end
   if torch.type(gradOutput) ~= torch.type(input) then
      error(string.format('<%s> gradOutput is a %s but input is a %s', torch.type(self),
                          torch.type(gradOutput), torch.type(input)), 3)
   end
   if not gradOutput:isSameSizeAs(output) then
      error(string.format('<%s> gradOutput of size %s expected (the output of the last forward), '
                          .. 'but got size %s: run forward on this input first', torch.type(self),
                          ops.sizestr(output), ops.sizestr(gradOutput)), 3)
   end
end

function ops.sizes(t)
   local s = {}
   for i = 1, t:dim() do s[i] = t:size(i) end
   return s
end

-- self[name] (a parameter gradient) of param's type and size, created as zeros when
-- missing (modules built with noBias, or loaded from files written without them).
function ops.gradParam(self, name, param)
   if param == nil then return nil end
   local g = self[name]
   if g == nil or not torch.isTensor(g) or torch.type(g) ~= torch.type(param)
         or g:nElement() ~= param:nElement() then
      g = param.new():resizeAs(param):zero()
      self[name] = g
   end
   if not g:isContiguous() then
      error(string.format('<%s> %s must be contiguous', torch.type(self), name), 3)
   end
   return g
end

-- The gradient of a full convolution's size-only target ({image, target} input): zero, as
-- Torch7 gives it, one zero element (self.zeroScalar) expanded to the target's shape.
function ops.zeroGradOfTarget(self, target)
   local z = self.zeroScalar
   if not (torch.isTensor(z) and torch.type(z) == torch.type(target) and z:nElement() == 1) then
      z = target.new(1):zero()
      self.zeroScalar = z
   end
   local ones = {}
   for d = 1, target:dim() do ones[d] = 1 end
   return z:view(torch.LongStorage(ones)):expandAs(target)
end

return ops
