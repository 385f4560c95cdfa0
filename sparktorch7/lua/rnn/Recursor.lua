-- nn.Recursor(module, rho): makes any module a recurrent one, one step per
-- forward: step t runs its own clone of module (sharing the parameters) in
-- training, module itself in evaluation. Sequencer and Repeater wrap the
-- modules they are given in one.
local schema = require('nn.schema')
local Recursor, parent = torch.class('nn.Recursor', 'nn.AbstractRecurrent')

-- decorates one module, run once per time step (clones of it in training)
schema.declare(Recursor, {
   {'modules', 'modules?', check = schema.decorated},
   {'module', 'module?'},
})

function Recursor:__init(module, rho)
   parent.__init(self, rho or 9999999)
   self.recurrentModule = module
   self.module = module
   self.modules = {module}
   self.sharedClones[1] = self.recurrentModule
end

function Recursor:updateOutput(input)
   local output
   if self.train ~= false then
      self:recycle()
      local m = self:getStepModule(self.step)
      output = self:rethrowErrors(m, 1, 'updateOutput', input)
   else
      output = self:rethrowErrors(self.recurrentModule, 1, 'updateOutput', input)
   end
   self.outputs[self.step] = output
   self.output = output
   self.step = self.step + 1
   self.updateGradInputStep = nil
   self.accGradParametersStep = nil
   return self.output
end

-- backward: step t's clone, its inner recurrent modules set back to step t's output (as
-- Element-Research rnn), runs backward with x(t) and gradOutput(t) as they are
function Recursor:_stepCall(step, input)
   local m = self:getStepModule(step)
   m:setOutputStep(step)
   return m, input
end

function Recursor:forget(offset)
   parent.forget(self, offset)
   nn.Module.forget(self)
   return self
end

function Recursor:maxBPTTstep(rho)
   self.rho = rho
   nn.Module.maxBPTTstep(self, rho)
end

function Recursor:getHiddenState(...)
   return self.modules[1]:getHiddenState(...)
end

function Recursor:setHiddenState(...)
   return self.modules[1]:setHiddenState(...)
end

function Recursor:getGradHiddenState(...)
   return self.modules[1]:getGradHiddenState(...)
end

function Recursor:setGradHiddenState(...)
   return self.modules[1]:setGradHiddenState(...)
end

function Recursor:__tostring__()
   return torch.type(self) .. ' @ ' .. tostring(self.modules[1])
end

return Recursor
