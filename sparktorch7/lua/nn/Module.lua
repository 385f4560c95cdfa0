-- nn.Module: the base of every module: forward and backward passes, parameter
-- updates and flattening, type conversion, introspection and copies.
local schema = require('nn.schema')
local Module = torch.class('nn.Module')

-- fields every module may hold (what a subclass declares is added to these)
schema.declare(Module, {
   {'output', 'tensor|table?'},
   {'gradInput', 'tensor|table?'},
   {'train', 'boolean?'},
   {'shared', 'boolean?'},
   {'_type', 'string?'},
   {'modules', 'modules?'},
})

function Module:__init()
   self.gradInput = torch.Tensor()
   self.output = torch.Tensor()
   self._type = self.output:type()
   self.train = true
end

function Module:parameters()
   if self.weight and self.bias then
      return {self.weight, self.bias}, {self.gradWeight, self.gradBias}
   elseif self.weight then
      return {self.weight}, {self.gradWeight}
   elseif self.bias then
      return {self.bias}, {self.gradBias}
   end
end

function Module:updateOutput(input)
   return self.output
end

function Module:forward(input)
   return self:updateOutput(input)
end

-- backward = updateGradInput then accGradParameters (scaled); returns gradInput.
function Module:backward(input, gradOutput, scale)
   scale = scale or 1
   self:updateGradInput(input, gradOutput)
   self:accGradParameters(input, gradOutput, scale)
   return self.gradInput
end

function Module:backwardUpdate(input, gradOutput, lr)
   self:updateGradInput(input, gradOutput)
   self:accUpdateGradParameters(input, gradOutput, lr)
   return self.gradInput
end

-- The defaults of Torch7: a module without a gradient of its own gives its
-- (empty) gradInput back and has no parameters to accumulate into.
-- A class that does not define its gradients gets a clear error, never an
-- empty gradInput or untouched gradWeight that would pass for a gradient.
function Module:updateGradInput(input, gradOutput)
   if torch.type(self) ~= 'nn.Module' then
      error(string.format('<%s> updateGradInput is not implemented in sparktorch7 yet',
                          torch.type(self)), 2)
   end
   return self.gradInput
end

function Module:accGradParameters(input, gradOutput, scale)
   if self.weight ~= nil or self.bias ~= nil then
      error(string.format('<%s> accGradParameters is not implemented in sparktorch7 yet',
                          torch.type(self)), 2)
   end
end

-- Updates the parameters straight from the gradient (w <- w - lr * dE/dw).
function Module:accUpdateGradParameters(input, gradOutput, lr)
   if self.shared then
      self:sharedAccUpdateGradParameters(input, gradOutput, lr)
   else
      self:defaultAccUpdateGradParameters(input, gradOutput, lr)
   end
end

-- accGradParameters with the parameters standing in for their gradients.
function Module:defaultAccUpdateGradParameters(input, gradOutput, lr)
   local gradWeight, gradBias = self.gradWeight, self.gradBias
   self.gradWeight, self.gradBias = self.weight, self.bias
   local ok, err = pcall(self.accGradParameters, self, input, gradOutput, -lr)
   self.gradWeight, self.gradBias = gradWeight, gradBias
   if not ok then error(err, 0) end
end

-- For modules sharing parameters: the gradient is computed on its own first.
function Module:sharedAccUpdateGradParameters(input, gradOutput, lr)
   if self:parameters() then
      self:zeroGradParameters()
      self:accGradParameters(input, gradOutput, 1)
      self:updateParameters(lr)
   end
end

function Module:zeroGradParameters()
   local _, gradParams = self:parameters()
   if gradParams then
      for i = 1, #gradParams do
         gradParams[i]:zero()
      end
   end
end

function Module:updateParameters(learningRate)
   local params, gradParams = self:parameters()
   if params then
      for i = 1, #params do
         if not gradParams or not gradParams[i] then
            error(string.format('<%s> parameter %d has no gradient tensor', torch.type(self), i), 2)
         end
         params[i]:add(-learningRate, gradParams[i])
      end
   end
end

-- True when a tensor covers a region of its storage with no holes
-- (its dimensions, ordered by stride, nest exactly).
local function isCompact(t)
   local dims = {}
   for d = 1, t:nDimension() do
      if t:stride(d) > 0 and t:size(d) > 1 then
         dims[#dims + 1] = {t:stride(d), t:size(d)}
      end
   end
   table.sort(dims, function(a, b) return a[1] > b[1] end)
   local expect = 1
   for i = #dims, 1, -1 do
      if dims[i][1] ~= expect then return false end
      expect = expect * dims[i][2]
   end
   return true
end

-- Torch7's nn.Module.flatten: every distinct storage the tensors use is copied
-- into one new flat tensor, the tensors are re-pointed at their places there
-- (so tensors that shared a storage still share), and the elements no tensor
-- uses are squeezed out when every tensor is compact.
function Module.flatten(parameters)
   if not parameters or #parameters == 0 then
      return torch.Tensor()
   end
   local Tensor = parameters[1].new
   local typename = torch.typename(parameters[1])
   local storages, order, total = {}, {}, 0
   local meta = {}
   for k, param in ipairs(parameters) do
      if torch.typename(param) ~= typename then
         error(string.format('<nn.Module.flatten> tensor %d is a %s, tensor 1 a %s', k,
                             torch.typename(param), typename), 2)
      end
      local st = param:storage()
      if st then
         if not storages[st] then
            storages[st] = total
            order[#order + 1] = st
            total = total + st:size()
         end
         meta[k] = {offset = param:storageOffset() + storages[st],
                    size = param:size(), stride = param:stride(),
                    empty = param:nElement() == 0}
      else
         meta[k] = {empty = true}
      end
   end
   local flat = Tensor(total):zero()
   if total == 0 then
      return flat
   end
   -- which elements some tensor uses
   local used = torch.ByteTensor(total):zero()
   local compact = true
   for k = 1, #parameters do
      local m = meta[k]
      if not m.empty then
         local view = torch.ByteTensor():set(used:storage(), m.offset, m.size, m.stride)
         view:fill(1)
         compact = compact and isCompact(view)
      end
   end
   for _, st in ipairs(order) do
      local n = st:size()
      if n > 0 then
         flat:narrow(1, storages[st] + 1, n):copy(Tensor():set(st, 1, torch.LongStorage({n})))
      end
   end
   local u = used:data()
   local nUsed, position = 0, {}
   for i = 0, total - 1 do
      if u[i] ~= 0 then nUsed = nUsed + 1 end
      position[i + 1] = nUsed
   end
   if nUsed ~= total then
      if not compact then
         error('<nn.Module.flatten> cannot gather tensors that are not compact: ' ..
               'a parameter has holes between its elements that another does not fill', 2)
      end
      local packed = Tensor(nUsed)
      local src, dst = flat:data(), packed:data()
      local j = 0
      for i = 0, total - 1 do
         if u[i] ~= 0 then dst[j] = src[i]; j = j + 1 end
      end
      for k = 1, #parameters do
         if not meta[k].empty then
            meta[k].offset = position[meta[k].offset]
         end
      end
      flat = packed
   end
   local fst = flat:storage()
   for k, param in ipairs(parameters) do
      local m = meta[k]
      if m.empty then
         param:set(Tensor())
      else
         param:set(fst, m.offset, m.size, m.stride)
      end
   end
   return flat
end

-- All parameters in one flat tensor and all gradients in another, the module's
-- tensors becoming views of them, as in Torch7.
function Module:getParameters()
   local params, grads = self:parameters()
   local p, g = Module.flatten(params), Module.flatten(grads)
   if p:nElement() ~= g:nElement() then
      error(string.format('<%s> getParameters: %d parameters but %d gradients; ' ..
                          'check that you are sharing parameters and gradParameters',
                          torch.type(self), p:nElement(), g:nElement()), 2)
   end
   if params then
      for i = 1, #params do
         if params[i]:storageOffset() ~= grads[i]:storageOffset() then
            error(string.format('<%s> getParameters: misaligned parameter at %d',
                                torch.type(self), i), 2)
         end
      end
   end
   return p, g
end

function Module:training()
   self.train = true
   return self
end

function Module:evaluate()
   self.train = false
   return self
end

function Module:share(mlp, ...)
   for _, name in ipairs({...}) do
      if self[name] ~= nil and mlp[name] ~= nil then
         self[name]:set(mlp[name])
         self.shared = true
         mlp.shared = true
      end
   end
   return self
end

-- A deep copy (tensors get their own memory); with field names, those fields
-- then share the original's tensors, as in Torch7.
function Module:clone(...)
   local copy = nn.utils.deepCopy(self)
   if select('#', ...) > 0 then
      copy:share(self, ...)
   end
   return copy
end

-- type() gives the tensor type name; type(name) converts every tensor of the
-- module (GPU type names convert to their CPU types: there is no GPU here).
function Module:type(typename, tensorCache)
   if not typename then
      return self._type
   end
   typename = nn.utils.cpuType(typename)
   tensorCache = tensorCache or {}
   for key, value in pairs(self) do
      self[key] = nn.utils.recursiveType(value, typename, tensorCache)
   end
   self._type = typename
   return self
end

function Module:float(...)
   return self:type('torch.FloatTensor', ...)
end

function Module:double(...)
   return self:type('torch.DoubleTensor', ...)
end

function Module:cuda(...)
   return self:type('torch.FloatTensor', ...)
end

function Module:reset()
   return self
end

-- Reading from a .t7 file: the fields are a table of values, checked against the
-- class's declared schema (nn/schema.lua); then old file versions are repaired in one place.
function Module:read(file, version)
   local pos = type(file._tell) == 'function' and file:_tell() or nil
   local fields = file:readObject()
   schema.checkFields(torch.typename(self), fields, file, pos)
   for k, v in pairs(fields) do
      self[k] = v
   end
   schema.check(self, file, pos)
   self:backCompatibility(version)
end

function Module:write(file)
   local fields = {}
   for k, v in pairs(self) do
      fields[k] = v
   end
   file:writeObject(fields)
end

-- Repairs modules saved by older or GPU builds of Torch7; subclasses extend it.
function Module:backCompatibility(version)
   if type(self._type) == 'string' then
      self._type = nn.utils.cpuType(self._type)
   end
end

-- module(input) runs forward; module(input, gradOutput) also runs backward and
-- gives output and gradInput, as in Torch7.
function Module:__call__(input, gradOutput)
   self:forward(input)
   if gradOutput then
      self:backward(input, gradOutput)
      return self.output, self.gradInput
   end
   return self.output
end

-- Calls callback on this module then, in preorder, on its children.
function Module:apply(callback)
   callback(self)
   if type(self.modules) == 'table' then
      for _, module in ipairs(self.modules) do
         module:apply(callback)
      end
   end
end

function Module:findModules(typename, container)
   container = container or self
   local nodes, containers = {}, {}
   if torch.typename(self) == typename then
      nodes[1] = self
      containers[1] = container
   end
   if type(self.modules) == 'table' then
      for _, child in ipairs(self.modules) do
         local childNodes, childContainers = child:findModules(typename, self)
         for j = 1, #childNodes do
            nodes[#nodes + 1] = childNodes[j]
            containers[#containers + 1] = childContainers[j]
         end
      end
   end
   return nodes, containers
end

function Module:listModules()
   local modules = {self}
   if type(self.modules) == 'table' then
      for _, child in ipairs(self.modules) do
         nn.utils.flattenInto(modules, child:listModules())
      end
   end
   return modules
end

function Module:clearState()
   return nn.utils.clear(self, 'output', 'gradInput')
end

-- Like apply, but the callback returns the module that takes the place of
-- the one it was given.
function Module:replace(callback)
   local out = callback(self)
   if type(self.modules) == 'table' then
      for i, module in ipairs(self.modules) do
         self.modules[i] = module:replace(callback)
      end
   end
   return out
end

function Module:__tostring__()
   return torch.type(self)
end

return Module
