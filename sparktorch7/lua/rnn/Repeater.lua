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

-- BPTT over the rho steps, last first: the input's gradient is the sum of the steps'
local function eachStepBack(self, method, input, gradOutput, scale)
   if type(gradOutput) ~= 'table' or torch.typename(gradOutput) or #gradOutput ~= self.rho then
      error(string.format('<nn.Repeater> gradOutput must be a table of rho (%d) step gradients, got %s', self.rho,
                          type(gradOutput) == 'table' and #gradOutput .. ' values' or torch.type(gradOutput)), 3)
   end
   if self.module.step - 1 ~= self.rho then
      error(string.format('<nn.Repeater> backward needs the forward first (the module ran %d steps, rho is %d)',
                          self.module.step - 1, self.rho), 3)
   end
   for step = self.rho, 1, -1 do
      local g = self:rethrowErrors(self.module, 1, method, input, gradOutput[step], scale)
      if method ~= 'accGradParameters' then
         if step == self.rho then
            self.gradInput = rnn.recursiveCopy(self.gradInput, g)
         else
            rnn.recursiveAdd(self.gradInput, g)
         end
      end
   end
   return self.gradInput
end

function Repeater:updateGradInput(input, gradOutput)
   return eachStepBack(self, 'updateGradInput', input, gradOutput)
end

function Repeater:accGradParameters(input, gradOutput, scale)
   eachStepBack(self, 'accGradParameters', input, gradOutput, scale or 1)
end

function Repeater:backward(input, gradOutput, scale)
   return eachStepBack(self, 'backward', input, gradOutput, scale or 1)
end

function Repeater:maxBPTTstep(rho)
   self.rho = rho
   self.module:maxBPTTstep(rho)
end

function Repeater:__tostring__()
   return string.format('%s(%d) @ %s', torch.type(self), self.rho, tostring(self.modules[1]))
end

return Repeater
