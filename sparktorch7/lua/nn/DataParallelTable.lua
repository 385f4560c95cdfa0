-- nn.DataParallelTable (from cunn): splits a batch across GPUs in Torch7.
-- Here there is one CPU: forward runs the inner module on the whole input, and
-- the replicas a file may hold are ignored.
local DataParallelTable, parent = torch.class('nn.DataParallelTable', 'nn.Container')

function DataParallelTable:__init(dimension)
   parent.__init(self)
   self.dimension = dimension or 1
   self.gpuAssignments = {}
end

function DataParallelTable:add(module, gpus)
   self.modules[1] = module
   return self
end

function DataParallelTable:get(index)
   return self.modules[index or 1]
end

-- the wrapped module
function DataParallelTable:inner()
   return self.modules[1]
end

function DataParallelTable:backCompatibility(version)
   parent.backCompatibility(self, version)
   -- keep the first replica only: the others are copies on other GPUs
   for i = #self.modules, 2, -1 do
      self.modules[i] = nil
   end
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
   local line = '\n'
   return 'nn.DataParallelTable: ' .. #(self.gpuAssignments or {}) .. ' x '
          .. tostring(self.modules[1]):gsub(line, line)
end

return DataParallelTable
