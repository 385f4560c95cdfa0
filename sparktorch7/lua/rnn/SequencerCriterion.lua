-- nn.SequencerCriterion(criterion, sizeAverage): the sum (or mean) over the
-- steps of a sequence (a table or a tensor whose first dimension is time) of
-- criterion(input[t], target[t]); each step has its own clone of criterion.
local schema = require('nn.schema')
local SequencerCriterion, parent = torch.class('nn.SequencerCriterion', 'nn.Criterion')

schema.declare(SequencerCriterion, {
   {'criterion', 'criterion'},
   {'clones', 'table?'},
})

function SequencerCriterion:__init(criterion, sizeAverage)
   parent.__init(self)
   if not torch.isTypeOf(criterion, 'nn.Criterion') then
      error('<nn.SequencerCriterion> expects an nn.Criterion at argument 1, got ' .. torch.type(criterion), 2)
   end
   self.criterion = criterion
   self.sizeAverage = sizeAverage or false
   self.clones = {}
   self.gradInput = {}
end

function SequencerCriterion:getStepCriterion(step)
   self.clones = self.clones or {}
   local c = self.clones[step]
   if not c then
      c = self.criterion:clone()
      self.clones[step] = c
   end
   return c
end

local function nSteps(self, input, target, sameSteps)
   local n
   if torch.isTensor(input) then
      n = input:size(1)
   elseif type(input) == 'table' then
      n = #input
   else
      error(string.format('<%s> input must be a table of steps or a tensor, got %s', torch.type(self),
                          torch.type(input)), 3)
   end
   if sameSteps then
      local m = torch.isTensor(target) and target:size(1) or (type(target) == 'table' and #target or -1)
      if m ~= n then
         error(string.format('<%s> target has %d steps, input %d', torch.type(self), m, n), 3)
      end
   end
   return n
end

function SequencerCriterion:updateOutput(input, target)
   local n = nSteps(self, input, target, true)
   self.output = 0
   for i = 1, n do
      self.output = self.output + self:getStepCriterion(i):forward(input[i], target[i])
   end
   if self.sizeAverage then
      self.output = self.output / n
   end
   return self.output
end

-- step gradients divided by n in place (nested tables of tensors)
local function divide(g, n)
   if type(g) == 'table' and not torch.typename(g) then
      for _, v in ipairs(g) do divide(v, n) end
   else
      g:div(n)
   end
end

-- The steps' gradients gathered as the input is: a table of them, or one
-- tensor whose first dimension is time.
local function gather(self, input, steps)
   if torch.isTensor(input) then
      local first = steps[1]
      local size = first:size():totable()
      table.insert(size, 1, #steps)
      local g = (torch.isTensor(self.gradInput) and torch.type(self.gradInput) == torch.type(first))
                and self.gradInput or nn.utils.newLike(first)
      g:resize(torch.LongStorage(size))
      for i = 1, #steps do
         g[i]:copy(steps[i])
      end
      return g
   end
   return steps
end

-- each step's criterion backward (divided by the steps with sizeAverage)
function SequencerCriterion:updateGradInput(input, target)
   local n = nSteps(self, input, target, true)
   local steps = {}
   for i = 1, n do
      steps[i] = self:getStepCriterion(i):backward(input[i], target[i])
      if self.sizeAverage then
         divide(steps[i], n)
      end
   end
   self.gradInput = gather(self, input, steps)
   return self.gradInput
end

SequencerCriterion._gather = gather

SequencerCriterion._nSteps = nSteps
return SequencerCriterion
