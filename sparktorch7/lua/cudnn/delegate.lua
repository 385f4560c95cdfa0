-- cudnn.delegate: the forward and backward of cudnn.torch's base classes (cudnn._Pooling,
-- cudnn._Pooling3D, cudnn._Pointwise), which pick the operation by self.mode: each call
-- runs the cudnn module of that mode (built once per object, kept out of its fields so
-- that nothing of it is serialized) on a copy of the object's settings.
local delegate = {}

local cache = setmetatable({}, {__mode = 'k'})

-- class's updateOutput/updateGradInput/accGradParameters; pick(self) names the class that
-- runs self's current mode, the arguments of its constructor (nil: no such mode) and
-- fields to set on it after self's
function delegate.install(class, pick)
   local function get(self)
      if self.mode == nil then
         error(string.format('<%s> mode is not set (trying to use base class?)', torch.type(self)), 3)
      end
      local name, args, extra = pick(self)
      if name == nil then
         error(string.format('<%s> unknown mode %s', torch.type(self), tostring(self.mode)), 3)
      end
      local d = cache[self]
      if d == nil or torch.type(d) ~= name then
         d = torch.getconstructortable(name)(unpack(args))
         cache[self] = d
      end
      for k, v in pairs(self) do
         local t = type(v)
         if t == 'number' or t == 'string' or t == 'boolean' or torch.isTensor(v) then
            d[k] = v
         end
      end
      for k, v in pairs(extra or {}) do
         d[k] = v
      end
      return d
   end

   function class:updateOutput(input)
      self.output = get(self):updateOutput(input)
      return self.output
   end

   function class:updateGradInput(input, gradOutput)
      self.gradInput = get(self):updateGradInput(input, gradOutput)
      return self.gradInput
   end

   function class:accGradParameters(input, gradOutput, scale)
   end

   function class:clearDesc()
      return self
   end
end

-- a pooling whose padding along an axis (axes: {'W', 'H', ...}) reaches a whole kernel
-- would have windows with no input in them
function delegate.checkPadding(self, axes)
   for _, a in ipairs(axes) do
      local k, p = self['k' .. a], self['pad' .. a] or 0
      if p >= k then
         error(string.format('<%s> pad%s (%s) must be smaller than the kernel size k%s (%s)',
                             torch.type(self), a, tostring(p), a, tostring(k)), 5)
      end
   end
end

return delegate
