-- nn.Recurrent(start, input, feedback, transfer, rho, merge): the simple RNN
-- h(1) = transfer(start(input(x(1)))), h(t) = transfer(merge{input(x(t)),
-- feedback(h(t-1))}); initialModule serves the first step, recurrentModule
-- (and its clones in training) the others.
local schema = require('nn.schema')
local Recurrent, parent = torch.class('nn.Recurrent', 'nn.AbstractRecurrent')

local function notContainingSelf(m, self)
   if schema.reaches(m, self) then
      return 'a module that does not contain the nn.Recurrent itself', 'one that contains it (a cycle)'
   end
end

-- the parts of the step modules (initialModule for step 1, recurrentModule after it)
schema.declare(Recurrent, {
   {'startModule', 'module?'}, {'inputModule', 'module?'}, {'feedbackModule', 'module?'},
   {'transferModule', 'module?'}, {'mergeModule', 'module?'},
   {'initialModule', 'module?', check = notContainingSelf},
})

function Recurrent:__init(start, input, feedback, transfer, rho, merge)
   parent.__init(self, rho)
   local ts = torch.type(start)
   if ts == 'torch.LongStorage' or ts == 'number' then
      start = nn.Add(start)
   elseif ts == 'table' then
      start = nn.Add(torch.LongStorage(start))
   elseif not torch.isTypeOf(start, 'nn.Module') then
      error('<nn.Recurrent> expects an nn.Module, a torch.LongStorage, a number or a table at argument 1, got '
            .. ts, 2)
   end
   self.startModule = start
   self.inputModule = input
   self.feedbackModule = feedback
   self.transferModule = transfer or nn.Sigmoid()
   self.mergeModule = merge or nn.CAddTable()
   self.modules = {self.startModule, self.inputModule, self.feedbackModule, self.transferModule,
                   self.mergeModule}
   self:buildInitialModule()
   self:buildRecurrentModule()
   self.sharedClones[2] = self.recurrentModule
end

function Recurrent:buildInitialModule()
   self.initialModule = nn.Sequential()
   self.initialModule:add(self.inputModule:sharedClone())
   self.initialModule:add(self.startModule)
   self.initialModule:add(self.transferModule:sharedClone())
end

function Recurrent:buildRecurrentModule()
   local parallel = nn.ParallelTable()
   parallel:add(self.inputModule)
   parallel:add(self.feedbackModule)
   self.recurrentModule = nn.Sequential()
   self.recurrentModule:add(parallel)
   self.recurrentModule:add(self.mergeModule)
   self.recurrentModule:add(self.transferModule)
end

function Recurrent:updateOutput(input)
   local output
   if self.step == 1 then
      output = self:rethrowErrors(self.initialModule, 1, 'updateOutput', input)
   else
      local m
      if self.train ~= false then
         self:recycle()
         m = self:getStepModule(self.step)
      else
         m = self.recurrentModule
      end
      output = self:rethrowErrors(m, self.step, 'updateOutput', {input, self.outputs[self.step - 1]})
   end
   return self:_stepDone(output)
end

-- backward: step 1 ran initialModule on x(1), step t > 1 its clone on {x(t), h(t-1)}; the
-- gradient of h(t-1) goes back to step t - 1
function Recurrent:_stepCall(step, input)
   if step == 1 then return self.initialModule, input end
   return self:getStepModule(step), {input, self.outputs[step - 1]}
end

Recurrent._stepGradOutput = parent.hStateHooks._stepGradOutput

function Recurrent:_stepGradInput(step, gradInput)
   if step == 1 then return gradInput end
   return parent.hStateHooks._stepGradInput(self, step, gradInput)
end

Recurrent.getGradHiddenState = parent.hStateHooks.getGradHiddenState
Recurrent.setGradHiddenState = parent.hStateHooks.setGradHiddenState

function Recurrent:includingSharedClones(f)
   local initial = self.initialModule
   self.initialModule = nil
   local ok, r = pcall(parent.includingSharedClones, self, function()
      table.insert(self.modules, initial)
      return f()
   end)
   self.initialModule = initial
   if not ok then error(r, 0) end
   return r
end

function Recurrent:maskZero()
   error('<nn.Recurrent> does not support maskZero (it uses another module for the first step): '
         .. 'use nn.Recurrence', 2)
end

function Recurrent:trimZero()
   error('<nn.Recurrent> does not support trimZero (it uses another module for the first step): '
         .. 'use nn.Recurrence', 2)
end

function Recurrent:__tostring__()
   return string.format('%s {start: %s, input: %s, feedback: %s, transfer: %s, merge: %s}',
                        torch.type(self), tostring(self.startModule), tostring(self.inputModule),
                        tostring(self.feedbackModule), tostring(self.transferModule),
                        tostring(self.mergeModule))
end

return Recurrent
