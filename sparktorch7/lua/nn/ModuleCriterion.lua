-- nn.ModuleCriterion(criterion [, inputModule, targetModule, castTarget]): a criterion
-- applied to inputModule's output for the input and to targetModule's output for the
-- target (each optional). Backward goes back through inputModule; its parameters are
-- not trained (a warning says so). :type() casts the target module too unless
-- castTarget is false (it is true by default).
local schema = require('nn.schema')
local ModuleCriterion, parent = torch.class('nn.ModuleCriterion', 'nn.Criterion')

-- the criterion must not lead back to this one (forward would recurse without end)
local function notContainingSelf(criterion, self)
   local seen, stack = {}, {criterion}
   while #stack > 0 do
      local v = table.remove(stack)
      if rawequal(v, self) then
         return 'a criterion that does not contain the nn.ModuleCriterion itself', 'one that contains it (a cycle)'
      end
      if type(v) == 'table' and not seen[v] then
         seen[v] = true
         for _, w in pairs(v) do
            if type(w) == 'table' then stack[#stack + 1] = w end
         end
      end
   end
end

schema.declare(ModuleCriterion, {
   {'criterion', 'criterion', check = notContainingSelf}, {'inputModule', 'module?'}, {'targetModule', 'module?'},
   {'castTarget', 'boolean?'}, {'input', 'any?'}, {'target', 'any?'},
})

local NAME = '<nn.ModuleCriterion>'

function ModuleCriterion:__init(criterion, inputModule, targetModule, castTarget)
   parent.__init(self)
   if not torch.isTypeOf(criterion, 'nn.Criterion') then
      error(string.format('%s expects an nn.Criterion, not %s', NAME, nn.utils.describe(criterion)), 2)
   end
   for _, m in ipairs({{'inputModule', inputModule}, {'targetModule', targetModule}}) do
      if m[2] ~= nil and not torch.isTypeOf(m[2], 'nn.Module') then
         error(string.format('%s the %s must be an nn.Module, not %s', NAME, m[1], nn.utils.describe(m[2])), 2)
      end
   end
   self.inputModule = inputModule
   self.targetModule = targetModule
   if castTarget == nil then self.castTarget = true else self.castTarget = castTarget end
   if inputModule then
      local params = inputModule:parameters()
      if params and #params > 0 then
         print("Warning: nn.ModuleCriterion doesn't support parameter updates")
      end
   end
   self.criterion = criterion
end

function ModuleCriterion:updateOutput(input, target)
   if self.inputModule then
      self.input = self.inputModule:forward(input)
   end
   if self.targetModule then
      self.target = self.targetModule:forward(target)
   end
   self.output = self.criterion:forward(self.input or input, self.target or target)
   return self.output
end

function ModuleCriterion:updateGradInput(input, target)
   self.gradInput = self.criterion:backward(self.input or input, self.target or target)
   if self.inputModule then
      self.gradInput = self.inputModule:backward(input, self.gradInput)
   end
   return self.gradInput
end

-- the modules and the criterion cast, the target module only with castTarget
function ModuleCriterion:type(typename, tensorCache)
   if not typename then
      return parent.type(self)
   end
   local kept
   if not self.castTarget then
      kept, self.targetModule = self.targetModule, nil
   end
   parent.type(self, typename, tensorCache)
   self.targetModule = self.targetModule or kept
   return self
end

return ModuleCriterion
