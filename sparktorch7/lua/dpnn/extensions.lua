-- dpnn's extensions of nn.Module and nn.Container, applied by `require 'dpnn'`
-- (as Element-Research dpnn's Module.lua/Container.lua did): the parameter
-- name lists, sharedClone (a clone sharing the parameters, which rnn builds
-- its time steps with), toBatch/fromBatch, the serialisation modes nn.Serial
-- uses, and the few helpers scoring code calls. Returns its table of helpers.
local extensions = {}

local Module = nn.Module
local Container = nn.Container

-- the fields sharedClone shares (and Serial's light mode empties)
Module.dpnn_parameters = {'weight', 'bias'}
Module.dpnn_gradParameters = {'gradWeight', 'gradBias'}

-- serialisation modes (nn.Serial): the fields emptied before writing
Module.dpnn_mediumEmpty = {'output', 'gradInput', 'momGradParams', 'dpnn_input'}
Module.dpnn_lightEmpty = Module.dpnn_gradParameters
Module.dpnn_serialEmpty = {}

local function isModule(v)
   return type(v) == 'table' and torch.isTypeOf(v, 'nn.Module')
end

-- The storages of the parameters of every module reachable from root; with
-- stepClone, modules marked dpnn_stepclone (rnn's AbstractRecurrent) are not
-- entered: they are kept, not copied.
local function sharedStorages(root, shareParams, shareGradParams, stepClone)
   local storages, seen = {}, {}
   local function mark(t)
      if torch.isTensor(t) then
         local st = t:storage()
         if st then storages[st] = true end
      end
   end
   local function walk(v)
      if type(v) ~= 'table' or seen[v] then return end
      seen[v] = true
      if isModule(v) then
         if v ~= root and stepClone and v.dpnn_stepclone then return end
         if shareParams then
            for _, name in ipairs(v.dpnn_parameters or {}) do mark(v[name]) end
         end
         if shareGradParams then
            for _, name in ipairs(v.dpnn_gradParameters or {}) do mark(v[name]) end
         end
      end
      for _, x in pairs(v) do walk(x) end
   end
   walk(root)
   return storages
end

-- A copy of self whose parameters (dpnn_parameters, and with shareGradParams
-- the gradients) and every tensor on their storages are shared with self;
-- everything else (outputs, buffers, plain fields) is copied. With stepClone,
-- an AbstractRecurrent inside (dpnn_stepclone) is the same object in both,
-- and self is returned when it is one.
function Module:sharedClone(shareParams, shareGradParams, stepClone)
   shareParams = (shareParams == nil) and true or shareParams
   shareGradParams = (shareGradParams == nil) and true or shareGradParams
   if stepClone and self.dpnn_stepclone then
      return self
   end
   local storages = sharedStorages(self, shareParams, shareGradParams, stepClone)
   local memo = {}
   local function copy(v)
      local tv = type(v)
      if tv ~= 'table' and tv ~= 'userdata' then
         return v
      end
      if memo[v] ~= nil then
         return memo[v]
      end
      if torch.isTensor(v) then
         local st = v:storage()
         local c = nn.utils.newLike(v)
         memo[v] = c
         if st and storages[st] then
            c:set(v)
         elseif st and v:nDimension() > 0 then
            c:set(copy(st), v:storageOffset(), v:size(), v:stride())
         end
         return c
      elseif torch.isStorage(v) then
         local c = nn.utils.deepCopy(v)
         memo[v] = c
         return c
      elseif tv ~= 'table' then
         return v
      end
      if v ~= self and isModule(v) then
         if stepClone and v.dpnn_stepclone then
            memo[v] = v
            return v
         elseif type(v.dpnn_sharedClone) == 'function' then
            local c = v:dpnn_sharedClone()
            memo[v] = c
            return c
         end
      end
      local c = {}
      memo[v] = c
      for k, x in pairs(v) do
         c[copy(k)] = copy(x)
      end
      local mt = getmetatable(v)
      if mt then setmetatable(c, mt) end
      return c
   end
   return copy(self)
end

-- A view of tensor with a batch dimension of 1 at batchDim when it has nDim
-- dimensions (self.dpnn_online records it for fromBatch).
function Module:toBatch(tensor, nDim, batchDim)
   batchDim = batchDim or 1
   if tensor:dim() == nDim then
      self.dpnn_online = true
      local size = tensor:size():totable()
      table.insert(size, batchDim, 1)
      if not tensor:isContiguous() then tensor = tensor:contiguous() end
      tensor = tensor:view(unpack(size))
   else
      self.dpnn_online = false
   end
   return tensor
end

-- Undoes toBatch: drops the batch dimension again when toBatch added it.
function Module:fromBatch(tensor, batchDim)
   if self.dpnn_online then
      local size = tensor:size():totable()
      local removed = table.remove(size, batchDim)
      if removed ~= 1 then
         error(string.format('<%s> fromBatch: dimension %d has size %d, expected 1',
                             torch.type(self), batchDim, removed), 2)
      end
      if not tensor:isContiguous() then tensor = tensor:contiguous() end
      tensor = tensor:view(unpack(size))
   end
   return tensor
end

-- The input itself when contiguous, else a contiguous copy kept in dpnn_cinput.
function Module:contiguousInput(input)
   if input:isContiguous() then
      return input
   end
   self.dpnn_cinput = self.dpnn_cinput or nn.utils.newLike(input)
   self.dpnn_cinput:resizeAs(input):copy(input)
   return self.dpnn_cinput
end

local function setSerial(root, apply)
   local seen = {}
   local function walk(v)
      if type(v) ~= 'table' or seen[v] then return end
      seen[v] = true
      if isModule(v) then apply(v) end
      for _, x in pairs(v) do walk(x) end
   end
   walk(root)
   return root
end

-- Serialisation modes (read by nn.Serial when writing): which fields of
-- every module inside are written empty.
function Module:serialMode(empty)
   if type(empty) ~= 'table' then
      error('<' .. torch.type(self) .. '> serialMode expects a table of field names', 2)
   end
   return setSerial(self, function(m) m.dpnn_serialEmpty = empty end)
end

function Module:heavySerial()
   return self:serialMode({})
end

function Module:mediumSerial()
   return setSerial(self, function(m) m.dpnn_serialEmpty = m.dpnn_mediumEmpty end)
end

function Module:lightSerial()
   return setSerial(self, function(m)
      local empty = {}
      for _, k in ipairs(m.dpnn_mediumEmpty or {}) do empty[#empty + 1] = k end
      for _, k in ipairs(m.dpnn_lightEmpty or {}) do empty[#empty + 1] = k end
      m.dpnn_serialEmpty = empty
   end)
end

-- self decorated with nn.Serial
function Module:Serial(tensortype)
   return nn.Serial(self, tensortype)
end

-- training-only switches: accepted, nothing to do for inference
function Module:dontBackward()
   self.updateGradInput = function() end
   self.accGradParameters = function() end
   self.accUpdateGradParameters = function() end
   return self
end

function Module:sparseParameters()
   return self:parameters()
end

-- REINFORCE rewards only matter for training; Module:reinforce reaches the children.
function Module:reinforce(reward)
   if type(self.modules) == 'table' then
      for _, module in ipairs(self.modules) do
         module:reinforce(reward)
      end
   end
end

-- multi-add
function Container:extend(...)
   for _, module in ipairs({...}) do
      self:add(module)
   end
   return self
end

-- the tensor of the first type found among the module's parameters, or its output's
function Module:extrapolateType()
   local params = self:parameters()
   if params and params[1] then
      return torch.type(params[1])
   end
   return torch.type(self.output)
end

-- dpnn's Criterion.lua: criteria batch their inputs the same way
nn.Criterion.toBatch = Module.toBatch
nn.Criterion.fromBatch = Module.fromBatch

-- dpnn's nn.Inception: built from its config table (the block of GoogLeNet:
-- per kernel size a 1x1 reduction then the convolution, a pooling tower and
-- optionally a 1x1 tower, concatenated over channels), and forward of a
-- single image (C x H x W) as a batch of one. nn.Inception (lua/nn) wraps
-- saved blocks; with dpnn it is also built, as with Torch7's dpnn.
local Inception = nn.Inception
local wrapOnly = Inception.__init

local function tower(self, reduceIn, reduceOut, stride)
   local mlp = nn.Sequential()
   mlp:add(nn.SpatialConvolution(reduceIn, reduceOut, 1, 1, stride or 1, stride or 1))
   if self.batchNorm then mlp:add(nn.SpatialBatchNormalization(reduceOut)) end
   mlp:add(self.transfer:clone())
   return mlp
end

function Inception:__init(config)
   if torch.isTypeOf(config, 'nn.Module') then
      return wrapOnly(self, config)
   end
   if type(config) ~= 'table' or not (config.inputSize and config.outputSize and config.reduceSize) then
      error('<nn.Inception> expects a config table with inputSize, outputSize and reduceSize', 2)
   end
   self.inputSize = config.inputSize
   self.outputSize = config.outputSize
   self.reduceSize = config.reduceSize
   self.reduceStride = config.reduceStride or {}
   self.transfer = config.transfer or nn.ReLU()
   self.batchNorm = config.batchNorm
   self.padding = true
   if config.padding ~= nil then self.padding = config.padding end
   self.kernelSize = config.kernelSize or {5, 3}
   self.kernelStride = config.kernelStride or {1, 1}
   self.poolSize = config.poolSize or 3
   self.poolStride = config.poolStride or 1
   self.pool = config.pool or nn.SpatialMaxPooling(self.poolSize, self.poolSize, self.poolStride, self.poolStride)
   local depthConcat = nn.DepthConcat(2)
   for i = 1, #self.kernelSize do
      local mlp = tower(self, self.inputSize, self.reduceSize[i], self.reduceStride[i])
      local pad = self.padding and math.floor(self.kernelSize[i] / 2) or 0
      mlp:add(nn.SpatialConvolution(self.reduceSize[i], self.outputSize[i], self.kernelSize[i], self.kernelSize[i],
                                    self.kernelStride[i], self.kernelStride[i], pad))
      if self.batchNorm then mlp:add(nn.SpatialBatchNormalization(self.outputSize[i])) end
      mlp:add(self.transfer:clone())
      depthConcat:add(mlp)
   end
   local pool = nn.Sequential():add(self.pool)
   local i = #self.kernelSize + 1
   if self.reduceSize[i] then
      local t = tower(self, self.inputSize, self.reduceSize[i], self.reduceStride[i])
      for _, m in ipairs(t.modules) do pool:add(m) end
   end
   depthConcat:add(pool)
   i = i + 1
   if self.reduceSize[i] then
      depthConcat:add(tower(self, self.inputSize, self.reduceSize[i], self.reduceStride[i]))
   end
   wrapOnly(self, depthConcat)
end

function Inception:updateOutput(input)
   if not torch.isTensor(input) then
      error('<nn.Inception> input must be a tensor, got ' .. torch.type(input), 2)
   end
   local x = self:toBatch(input, 3)
   local online = self.dpnn_online
   local out = self:rethrowErrors(self.modules[1], 1, 'updateOutput', x)
   self.dpnn_online = online
   self.output = self:fromBatch(out, 1)
   return self.output
end

extensions.sharedStorages = sharedStorages
return extensions
