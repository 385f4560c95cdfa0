-- nn.Container: a module holding child modules in self.modules.
local schema = require('nn.schema')
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

return Container
