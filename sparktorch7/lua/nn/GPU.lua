-- nn.GPU(module, device[, outdevice]): in Torch7, runs module on GPU `device` and gives
-- its output on `outdevice`. There is no GPU here: it runs module as it is, a decorator,
-- and keeps device and outdevice. Its files hold, as Torch7 writes them, a header
-- {tensor type, device} before the fields; GPU files load (CUDA tensors become CPU ones).
local schema = require('nn.schema')
local errors = require('sparktorch7.errors')
local GPU, parent = torch.class('nn.GPU', 'nn.Decorator')

schema.declare(GPU, {
   {'device', 'int'},
   {'outdevice', 'int?'},
   {'_input', 'tensor|table?'}, {'_gradOutput', 'tensor|table?'},
})

function GPU:__init(module, device, outdevice)
   if not torch.isTypeOf(module, 'nn.Module') then
      error('<nn.GPU> expects an nn module at argument 1, got ' .. torch.type(module), 2)
   end
   if type(device) ~= 'number' then
      error('<nn.GPU> expects a device number at argument 2, got ' .. torch.type(device), 2)
   end
   parent.__init(self, module)
   self.device = device
   self.outdevice = outdevice or device
end

-- Torch7's helpers that move tensors between devices: here every tensor is on the CPU,
-- so a module stays as it is and src is the value to use
function GPU.recursiveModuleDevice(obj, device)
   return obj
end

function GPU.recursiveSetDevice(dst, src, proto)
   if type(proto) ~= 'number' and type(proto) ~= 'table' and not torch.isTensor(proto) then
      error('<nn.GPU> recursiveSetDevice expects a number, table or tensor at argument 3 (proto), got ' ..
            torch.type(proto), 2)
   end
   return src
end

function GPU:setDevice(device)
   self.device = device or self.device
   return self
end

-- as Torch7 for a module that is not on the GPU: the buffers are dropped before the types change
function GPU:type(typename, tensorCache)
   if typename then
      self.output, self.gradInput = nil, nil
      self._input, self._gradOutput = nil, nil
   end
   local res = parent.type(self, typename, tensorCache)
   if typename then
      self.output = self.output or nn.utils.newTensor(self._type)
      self.gradInput = self.gradInput or nn.utils.newTensor(self._type)
   end
   return res
end

function GPU:clearState()
   self._input, self._gradOutput = nil, nil
   return parent.clearState(self)
end

function GPU:accUpdateGradParameters(input, gradOutput, lr)
   error('<nn.GPU> accUpdateGradParameters is not implemented for nn.GPU (as in Torch7)', 2)
end

function GPU:sharedAccUpdateGradParameters(input, gradOutput, lr)
   error('<nn.GPU> sharedAccUpdateGradParameters is not implemented for nn.GPU (as in Torch7)', 2)
end

-- Torch7's layout: the header {tensor type, device}, then the table of fields
function GPU:write(file)
   file:writeObject({self._type, self.device})
   parent.write(self, file)
end

function GPU:read(file, version)
   local pos = type(file._tell) == 'function' and file:_tell() or nil
   local header = file:readObject()
   if type(header) ~= 'table' or torch.typename(header) or type(header[1]) ~= 'string' then
      local where = pos and type(file._where) == 'function' and ' (the nn.GPU ' .. file:_where(pos) .. ')' or ''
      errors.raise('t7format', string.format('nn.GPU: expected a header {tensor type, device} before the ' ..
                          'fields, the file holds %s%s', schema.holds(header), where), 0)
   end
   parent.read(self, file, version)
end

function GPU:__tostring__()
   return string.format('%s(%s) @ %s', torch.type(self), tostring(self.device), tostring(self.modules[1]))
end

return GPU
