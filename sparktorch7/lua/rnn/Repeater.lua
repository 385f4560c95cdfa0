-- nn.Repeater(module, rho): feeds the same input to a recurrent module rho
-- times; the output is the table of the rho step outputs (copies).
local schema = require('nn.schema')
local Repeater, parent = torch.class('nn.Repeater', 'nn.AbstractSequencer')

schema.declare(Repeater, {
   {'rho', 'natural?'},
   {'module', 'module?'},
   {'rnn', 'module?'},      -- older files name the module rnn
})

function Repeater:__init(module, rho)
   parent.__init(self)
   if type(rho) ~= 'number' then
      error('<nn.Repeater> expects the number of steps (rho) at argument 2, got ' .. torch.type(rho), 2)
   end
   self.rho = rho
   self.module = (not torch.isTypeOf(module, 'nn.AbstractRecurrent')) and nn.Recursor(module) or module
   self.module:maxBPTTstep(rho)
   self.modules[1] = self.module
   self.output = {}
end

function Repeater:updateOutput(input)
   self.module = self.module or self.rnn or self.modules[1]  -- older files name it rnn
   self.module:forget()
   if type(self.output) ~= 'table' or torch.isTensor(self.output) then self.output = {} end
   for step = 1, self.rho do
      local out = self:rethrowErrors(self.module, 1, 'updateOutput', input)
      self.output[step] = rnn.recursiveCopy(self.output[step], out)
   end
   for i = self.rho + 1, #self.output do self.output[i] = nil end
   return self.output
end

function Repeater:maxBPTTstep(rho)
   self.rho = rho
   self.module:maxBPTTstep(rho)
end

function Repeater:__tostring__()
   return string.format('%s(%d) @ %s', torch.type(self), self.rho, tostring(self.modules[1]))
end

return Repeater
