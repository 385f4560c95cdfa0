-- nn.MapTable: applies one module (cloned as needed, parameters shared) to
-- every element of the input table.
local schema = require('nn.schema')
local MapTable, parent = torch.class('nn.MapTable', 'nn.Container')

schema.declare(MapTable, {
   {'module', 'module?'}, {'shared', 'table?'},
})
local unpack = unpack or table.unpack

function MapTable:__init(module, shared)
   parent.__init(self)
   self.shared = shared or {'weight', 'bias', 'gradWeight', 'gradBias'}
   self.output = {}
   self.gradInput = {}
   if module then
      self:add(module)
   end
end

function MapTable:_extend(n)
   self.modules[1] = self.module
   for i = 2, n do
      if not self.modules[i] then
         self.modules[i] = self.module:clone(unpack(self.shared))
      end
   end
end

function MapTable:resize(n)
   self:_extend(n)
   for i = n + 1, #self.modules do
      self.modules[i] = nil
   end
   return self
end

function MapTable:add(module)
   if self.module then
      error('<nn.MapTable> holds a single module', 2)
   end
   self.module = module
   self.modules[1] = module
   return self
end

function MapTable:updateOutput(input)
   if type(input) ~= 'table' then
      error('<nn.MapTable> input must be a table', 2)
   end
   self.output = {}
   self:_extend(#input)
   for i = 1, #input do
      self.output[i] = self:rethrowErrors(self.modules[i], i, 'updateOutput', input[i])
   end
   return self.output
end

function MapTable:clearState()
   for i = 2, #self.modules do
      self.modules[i] = nil
   end
   return parent.clearState(self)
end

function MapTable:__tostring__()
   local line, tab, extlast = '\n', '  ', '      '
   local s = torch.type(self)
   if self.module then
      s = s .. ' {' .. line .. tab
            .. tostring(self.module):gsub(line, line .. tab .. extlast) .. line .. '}'
   else
      s = s .. ' { }'
   end
   return s
end

-- backward: clone i gets input[i] and gradOutput[i]; gradInput[i] is its gradInput
function MapTable:_childArgs(input, gradOutput)
   if type(input) ~= 'table' or type(gradOutput) ~= 'table' then
      error('<nn.MapTable> input and gradOutput must be tables', 3)
   end
   self:_extend(#input)
   local args = {}
   for i = 1, #input do
      args[i] = {i, input[i], gradOutput[i]}
   end
   return args
end

function MapTable:_gatherGradInput(input, grads)
   self.gradInput = {}
   for i = 1, #grads do
      self.gradInput[i] = grads[i]
   end
   return self.gradInput
end

-- the clones share the module's parameters: update (or zero) them once
function MapTable:zeroGradParameters()
   if self.module then
      if self.shared then
         self.module:zeroGradParameters()
      else
         parent.zeroGradParameters(self)
      end
   end
end

function MapTable:updateParameters(learningRate)
   if self.module then
      if self.shared then
         self.module:updateParameters(learningRate)
      else
         parent.updateParameters(self, learningRate)
      end
   end
end

return MapTable
