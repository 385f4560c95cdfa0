-- nn.Container: a module holding child modules in self.modules.
local schema = require('nn.schema')
local errors = require('sparktorch7.errors')
local Container, parent = torch.class('nn.Container', 'nn.Module')

schema.declare(Container, {
   {'modules', 'modules?'},      -- schema.check refuses a cycle through modules
})

function Container:__init(...)
   parent.__init(self, ...)
   self.modules = {}
end

function Container:add(module)
   table.insert(self.modules, module)
   return self
end

function Container:get(index)
   return self.modules[index]
end

function Container:size()
   return #self.modules
end

-- Runs self.modules[index]:method(...). An error inside gets the traceback of
-- where it happened (once) and, at each container level, which child failed.
local unpack = unpack or table.unpack

local function addTraceback(err)
   if type(err) == 'string' and not err:find('stack traceback:', 1, true) then
      err = debug.traceback(err, 2)
   end
   return err
end

function Container:rethrowErrors(module, index, method, ...)
   local n = select('#', ...)
   local args = {...}
   local ok, result = xpcall(function()
      return module[method](module, unpack(args, 1, n))
   end, addTraceback)
   if not ok then
      if type(result) == 'string' then
         result = string.format('In %d module of %s:\n%s', index, torch.type(self), result)
      else   -- a structured error keeps its kind; the module is a note (Python's add_note)
         errors.note(result, string.format('In %d module of %s', index, torch.type(self)))
      end
      error(result, 0)
   end
   return result
end

function Container:applyToModules(func)
   for _, module in ipairs(self.modules) do
      func(module)
   end
end

function Container:training()
   self:applyToModules(function(module) module:training() end)
   return parent.training(self)
end

function Container:evaluate()
   self:applyToModules(function(module) module:evaluate() end)
   return parent.evaluate(self)
end

function Container:share(mlp, ...)
   for i = 1, #self.modules do
      self.modules[i]:share(mlp.modules[i], ...)
   end
   return self
end

function Container:reset(stdv)
   self:applyToModules(function(module) module:reset(stdv) end)
   return self
end

function Container:parameters()
   local w, gw = {}, {}
   for _, module in ipairs(self.modules) do
      local mw, mgw = module:parameters()
      if mw then
         nn.utils.flattenInto(w, mw)
         nn.utils.flattenInto(gw, mgw or {})
      end
   end
   return w, gw
end

function Container:clearState()
   nn.utils.clear(self, 'output', 'gradInput')
   for _, module in pairs(self.modules) do
      module:clearState()
   end
   return self
end

function Container:backCompatibility(version)
   parent.backCompatibility(self, version)
   self.modules = self.modules or {}
end

-- Shared printout of the branching containers (Concat, ConcatTable, Parallel,
-- ParallelTable): one line per branch under an "input" line.
function Container:_branchesString(lastArrow)
   local line, tab = '\n', '  '
   local next, ext = '  |`-> ', '  |    '
   local extlast = '       '
   local s = torch.type(self) .. ' {' .. line .. tab .. 'input'
   for i, module in ipairs(self.modules) do
      local isLast = i == #self.modules
      local arrow = (isLast and lastArrow) or next
      local pad = isLast and extlast or ext
      s = s .. line .. tab .. arrow .. '(' .. i .. '): '
            .. tostring(module):gsub(line, line .. tab .. pad)
   end
   return s .. line .. tab .. '   ... -> output' .. line .. '}'
end

function Container:zeroGradParameters()
   self:applyToModules(function(module) module:zeroGradParameters() end)
end

function Container:updateParameters(learningRate)
   self:applyToModules(function(module) module:updateParameters(learningRate) end)
end

-- ---------------------------------------------------------------- backward
-- A container whose children's inputs and gradOutputs follow from its own
-- (every container but nn.Sequential, which chains them) defines
--   self:_childArgs(input, gradOutput) -> a list of {index, childInput, childGradOutput}
--   self:_gatherGradInput(input, grads, args) -> its gradInput, from grads[k],
--        the gradInput of the child of args[k]
-- and gets updateGradInput, backward, accGradParameters (with scale) and
-- accUpdateGradParameters from here. A container that defines neither keeps
-- nn.Module's (a clear error for updateGradInput).

function Container:_runChildren(method, input, gradOutput, arg)
   local args = self:_childArgs(input, gradOutput)
   local grads = {}
   for k, a in ipairs(args) do
      grads[k] = self:rethrowErrors(self.modules[a[1]], a[1], method, a[2], a[3], arg)
   end
   return args, grads
end

function Container:updateGradInput(input, gradOutput)
   if not self._childArgs then
      return parent.updateGradInput(self, input, gradOutput)
   end
   local args, grads = self:_runChildren('updateGradInput', input, gradOutput)
   self.gradInput = self:_gatherGradInput(input, grads, args)
   return self.gradInput
end

-- each child's own backward (one pass through it, as Torch7's containers)
function Container:backward(input, gradOutput, scale)
   if not self._childArgs then
      return parent.backward(self, input, gradOutput, scale)
   end
   local args, grads = self:_runChildren('backward', input, gradOutput, scale or 1)
   self.gradInput = self:_gatherGradInput(input, grads, args)
   return self.gradInput
end

function Container:accGradParameters(input, gradOutput, scale)
   if not self._childArgs then
      return parent.accGradParameters(self, input, gradOutput, scale)
   end
   self:_runChildren('accGradParameters', input, gradOutput, scale or 1)
end

function Container:accUpdateGradParameters(input, gradOutput, lr)
   if not self._childArgs then
      return parent.accUpdateGradParameters(self, input, gradOutput, lr)
   end
   self:_runChildren('accUpdateGradParameters', input, gradOutput, lr)
end

-- _gatherGradInput of the containers whose children all see the same input:
-- the sum of the children's gradInputs (tensors or nested tables), in a
-- buffer of self's own.
function Container:_sumGradInputs(input, grads)
   local first = true
   for k = 1, #grads do
      local g = grads[k]
      if g ~= nil then
         if first then
            self.gradInput = nn.utils.recursiveCopy(self.gradInput, g)
            first = false
         else
            nn.utils.recursiveAdd(self.gradInput, g)
         end
      end
   end
   return self.gradInput
end

return Container
