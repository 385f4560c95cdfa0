-- nn.Sequential: feeds each module's output to the next one.
local schema = require('nn.schema')
local Sequential, parent = torch.class('nn.Sequential', 'nn.Container')
local bnfold = require 'nn.batchnorm_fold'

schema.parameterless(Sequential, "a container: nn.Container's modules")

function Sequential:__len()
   return #self.modules
end

function Sequential:add(module)
   if #self.modules == 0 then
      self.gradInput = module.gradInput
   end
   table.insert(self.modules, module)
   self.output = module.output
   return self
end

function Sequential:insert(module, index)
   index = index or (#self.modules + 1)
   if index > #self.modules + 1 or index < 1 then
      error('<nn.Sequential> index should be contiguous to existing modules', 2)
   end
   table.insert(self.modules, index, module)
   self.output = self.modules[#self.modules].output
   self.gradInput = self.modules[1].gradInput
   return self
end

function Sequential:remove(index)
   index = index or #self.modules
   if index > #self.modules or index < 1 then
      error('<nn.Sequential> index out of range', 2)
   end
   table.remove(self.modules, index)
   if #self.modules > 0 then
      self.output = self.modules[#self.modules].output
      self.gradInput = self.modules[1].gradInput
   else
      self.output = torch.Tensor()
      self.gradInput = torch.Tensor()
   end
   return self
end

-- In evaluation mode a convolution followed by a SpatialBatchNormalization runs as one
-- folded convolution (nn/batchnorm_fold.lua).
function Sequential:updateOutput(input)
   local current = input
   local mods = self.modules
   local i, n = 1, #mods
   while i <= n do
      local m = mods[i]
      if i < n and bnfold.foldable(m, mods[i + 1], current) then
         current = self:rethrowErrors(bnfold, i, 'forward', m, mods[i + 1], current)
         i = i + 2
      else
         bnfold.unshare(m, current)
         current = self:rethrowErrors(m, i, 'updateOutput', current)
         i = i + 1
      end
   end
   self.output = current
   return current
end

function Sequential:__tostring__()
   local line, tab, next = '\n', '  ', ' -> '
   local s = 'nn.Sequential {' .. line .. tab .. '[input'
   for i = 1, #self.modules do
      s = s .. next .. '(' .. i .. ')'
   end
   s = s .. next .. 'output]'
   for i, module in ipairs(self.modules) do
      s = s .. line .. tab .. '(' .. i .. '): ' .. tostring(module):gsub(line, line .. tab)
   end
   return s .. line .. '}'
end

-- Backward runs the modules in reverse, each given the output of the one before.
function Sequential:updateGradInput(input, gradOutput)
   local current = gradOutput
   for i = #self.modules, 2, -1 do
      local previous = self.modules[i - 1]
      current = self:rethrowErrors(self.modules[i], i, 'updateGradInput', previous.output, current)
   end
   if #self.modules > 0 then
      current = self:rethrowErrors(self.modules[1], 1, 'updateGradInput', input, current)
   end
   self.gradInput = current
   return current
end

function Sequential:accGradParameters(input, gradOutput, scale)
   scale = scale or 1
   local current = gradOutput
   for i = #self.modules, 2, -1 do
      local previous = self.modules[i - 1]
      self:rethrowErrors(self.modules[i], i, 'accGradParameters', previous.output, current, scale)
      current = self.modules[i].gradInput
   end
   if #self.modules > 0 then
      self:rethrowErrors(self.modules[1], 1, 'accGradParameters', input, current, scale)
   end
end

function Sequential:backward(input, gradOutput, scale)
   scale = scale or 1
   local current = gradOutput
   for i = #self.modules, 2, -1 do
      local previous = self.modules[i - 1]
      current = self:rethrowErrors(self.modules[i], i, 'backward', previous.output, current, scale)
   end
   if #self.modules > 0 then
      current = self:rethrowErrors(self.modules[1], 1, 'backward', input, current, scale)
   end
   self.gradInput = current
   return current
end

function Sequential:accUpdateGradParameters(input, gradOutput, lr)
   local current = gradOutput
   for i = #self.modules, 2, -1 do
      local previous = self.modules[i - 1]
      self:rethrowErrors(self.modules[i], i, 'accUpdateGradParameters', previous.output, current, lr)
      current = self.modules[i].gradInput
   end
   if #self.modules > 0 then
      self:rethrowErrors(self.modules[1], 1, 'accUpdateGradParameters', input, current, lr)
   end
end

return Sequential
