-- nn.Module: the base of every module. sparktorch7 runs inference only: the
-- forward pass, type conversion, introspection and copies are here; the
-- learning methods raise a clear error.
local schema = require('nn.schema')
local Module = torch.class('nn.Module')

-- fields every module may hold (what a subclass declares is added to these)
schema.declare(Module, {
   {'output', 'tensor|table?'},
   {'gradInput', 'tensor|table?'},
   {'train', 'boolean?'},
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

local function inferenceOnly(name)
   return function(self)
      error(string.format('<%s> sparktorch7 runs inference only: %s is not supported',
                          torch.type(self), name), 2)
   end
end

Module.backward = inferenceOnly('backward')
Module.backwardUpdate = inferenceOnly('backwardUpdate')
Module.updateGradInput = inferenceOnly('updateGradInput')
Module.accGradParameters = inferenceOnly('accGradParameters')
Module.accUpdateGradParameters = inferenceOnly('accUpdateGradParameters')
Module.sharedAccUpdateGradParameters = inferenceOnly('sharedAccUpdateGradParameters')
Module.zeroGradParameters = inferenceOnly('zeroGradParameters')
Module.updateParameters = inferenceOnly('updateParameters')

-- All parameters in one flat tensor (and the gradients in another), the
-- module's tensors becoming views of them, as in Torch7.
function Module:getParameters()
   local params, grads = self:parameters()
   local p = nn.utils.flatten(params)
   local complete = grads and params and #grads == #params
   if complete then
      for i = 1, #params do
         if grads[i] == nil then complete = false end
      end
   end
   local g = complete and nn.utils.flatten(grads) or nil
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

-- module(input) runs forward; module(input, gradOutput) would also run
-- backward in Torch7, which raises here.
function Module:__call__(input, gradOutput)
   self:forward(input)
   if gradOutput then
      self:backward(input, gradOutput)
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
