-- nn.DataParallelTable (from cunn): splits a batch across GPUs in Torch7.
-- Here there is one CPU: forward runs the inner module on the whole input.
-- Files keep cunn's layout (version 3: the GPU assignments, then the fields,
-- with an `impl` object of class nn.DataParallelTable.Basic or .Threads).
local schema = require('nn.schema')
local DataParallelTable, parent = torch.class('nn.DataParallelTable', 'nn.Container')

schema.declare(DataParallelTable, {
   {'dimension', 'int?'}, {'gpuAssignments', 'table?'},
   {'modules', 'modules', check = function(modules)
      if #modules < 1 then return 'a list of at least one module (its replicas)', 'an empty list' end
   end},
})

DataParallelTable.__version = 3

-- The dispatchers cunn stores in `impl`; on one CPU both run the module once.
local Impls = {}
local Basic = torch.class('nn.DataParallelTable.Basic', Impls)
local Threads = torch.class('nn.DataParallelTable.Threads', Impls)

function Basic:__init(dpt)
   self.dpt = dpt
end

function Basic:exec(closure)
   return {closure(self.dpt.modules[1], 1)}
end

function Basic:setup() end
function Basic:applyChanges() end
function Basic:close() end

function Threads:__init(dpt, initFunc)
   self.dpt = dpt
   self.initFunc = initFunc
end

Threads.exec = Basic.exec
Threads.setup = Basic.setup
Threads.applyChanges = Basic.applyChanges
Threads.close = Basic.close

function DataParallelTable:__init(dimension, flattenParams, usenccl)
   parent.__init(self)
   self.dimension = dimension or 1
   self.modules = {}
   self.gpuAssignments = {}
   self.inputGpu = {}
   self.gradOutputGpu = {}
   self.outputGpu = {}
   self.gradInputGpu = {}
   self.flattenParams = flattenParams or false
   self.usenccl = false
   self.needsSync = false
   self.impl = Impls.Basic(self)
end

-- add(module, {gpu ids}) or add(module, gpu id) as in cunn; one module is kept
function DataParallelTable:add(module, gpus)
   if type(gpus) == 'number' then
      if #self.modules == 0 then
         self.modules[1] = module
      end
      table.insert(self.gpuAssignments, gpus)
      return self
   end
   self.modules[1] = module
   self.gpuAssignments = type(gpus) == 'table' and gpus or {1}
   return self
end

function DataParallelTable:get(index)
   return self.modules[index or 1]
end

function DataParallelTable:threads(initFunc)
   self.impl = Impls.Threads(self, initFunc)
   return self
end

function DataParallelTable:parameters()
   return self.modules[1]:parameters()
end

function DataParallelTable:backCompatibility(version)
   parent.backCompatibility(self, version)
   -- keep the first replica only: the others are copies on other GPUs
   for i = #self.modules, 2, -1 do
      self.modules[i] = nil
   end
   self.gpuAssignments = self.gpuAssignments or {1}
   self.impl = self.impl or Impls.Basic(self)
end

function DataParallelTable:__read(file, version)
   local gpuAssignments
   if (version or 0) >= 2 then
      gpuAssignments = file:readObject()
   end
   local pos = type(file._tell) == 'function' and file:_tell() or nil
   local fields = file:readObject()
   schema.checkFields('nn.DataParallelTable', fields, file, pos)
   for k, v in pairs(fields) do
      self[k] = v
   end
   if gpuAssignments then
      self.gpuAssignments = gpuAssignments
   end
   schema.check(self, file, pos)
   self:backCompatibility(version)
end

function DataParallelTable:__write(file)
   file:writeObject(self.gpuAssignments)
   local fields = {}
   for k, v in pairs(self) do
      if k == 'inputGpu' or k == 'outputGpu' or k == 'gradInputGpu' or k == 'gradOutputGpu' then
         fields[k] = {}
      elseif k == 'flattenedParams' then
         fields[k] = {v[1]}
      elseif k ~= 'buffer' then
         fields[k] = v
      end
   end
   file:writeObject(fields)
end

function DataParallelTable:updateOutput(input)
   local module = self.modules[1]
   if not module then
      error('<nn.DataParallelTable> holds no module', 2)
   end
   self.output = self:rethrowErrors(module, 1, 'updateOutput', input)
   return self.output
end

function DataParallelTable:__tostring__()
   return 'DataParallelTable: ' .. #(self.gpuAssignments or {}) .. ' x ' .. tostring(self.modules[1])
end

-- backward goes through the one module, with the input and gradOutput as they are
function DataParallelTable:_childArgs(input, gradOutput)
   return {{1, input, gradOutput}}
end

function DataParallelTable:_gatherGradInput(input, grads)
   self.gradInput = grads[1]
   return self.gradInput
end

return DataParallelTable
