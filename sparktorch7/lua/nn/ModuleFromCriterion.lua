-- nn.ModuleFromCriterion (nngraph's, under Torch7's name): a criterion as a
-- module of a graph; input {prediction, target} gives a one-element tensor
-- holding the loss. Backward scales the criterion's gradient by gradOutput[1];
-- the target's gradient is zero.
local schema = require('nn.schema')
local ModuleFromCriterion, parent = torch.class('nn.ModuleFromCriterion', 'nn.Module')

schema.declare(ModuleFromCriterion, {
   {'criterion', 'criterion'},
})

function ModuleFromCriterion:__init(criterion)
   parent.__init(self)
   if not torch.isTypeOf(criterion, 'nn.Criterion') then
      error(string.format('<%s> expects an nn.Criterion, got %s', torch.type(self), torch.type(criterion)), 2)
   end
   self.criterion = criterion
   self.output = torch.Tensor(1)
   self.gradInput = {torch.Tensor(), torch.Tensor()}
end

local function pair(self, input)
   if type(input) ~= 'table' or #input ~= 2 then
      error(string.format('<%s> input must be {prediction, target}', torch.type(self)), 3)
   end
   return input[1], input[2]
end

function ModuleFromCriterion:updateOutput(input)
   local prediction, target = pair(self, input)
   local loss = self.criterion:updateOutput(prediction, target)
   if not torch.isTensor(self.output) then
      self.output = torch.Tensor(1)
   end
   self.output:resize(1)
   self.output[1] = loss
   return self.output
end

-- a copy of g (a tensor or nested table) times s, in dst's tensors when they fit
local function scaled(dst, g, s)
   dst = nn.utils.recursiveCopy(dst, g)
   if torch.isTensor(dst) then
      dst:mul(s)
   else
      for _, t in ipairs(nn.utils.flattenInto({}, dst)) do t:mul(s) end
   end
   return dst
end

function ModuleFromCriterion:updateGradInput(input, gradOutput)
   local prediction, target = pair(self, input)
   local s = torch.isTensor(gradOutput) and gradOutput[1] or gradOutput
   if type(s) ~= 'number' then
      error(string.format('<%s> gradOutput must be a one-element tensor or a number', torch.type(self)), 2)
   end
   if type(self.gradInput) ~= 'table' or torch.typename(self.gradInput) then
      self.gradInput = {}
   end
   self.gradInput[1] = scaled(self.gradInput[1], self.criterion:updateGradInput(prediction, target), s)
   if type(target) == 'number' then
      self.gradInput[2] = 0
   elseif torch.isTensor(target) then
      local g = self.gradInput[2]
      if not torch.isTensor(g) or torch.type(g) ~= torch.type(target) or g == target then
         g = nn.utils.newLike(target)
      end
      self.gradInput[2] = g:resizeAs(target):zero()
   else
      self.gradInput[2] = nn.utils.recursiveFill(nn.utils.recursiveResizeAs(self.gradInput[2], target), 0)
   end
   return self.gradInput
end

return ModuleFromCriterion
