-- nn.Profile(module[, print_interval, name]): runs module and times it: every
-- print_interval forward (and backward) passes it prints the time they took, then starts
-- counting again. Its torch.Timer is saved as its class name only (torch/Timer.lua), so a
-- file holding one loads.
local schema = require('nn.schema')
local Profile, parent = torch.class('nn.Profile', 'nn.Decorator')

schema.declare(Profile, {
   {'print_interval', 'posint'},
   {'name', 'string'},
   {'numFwds', 'natural'}, {'numBwds', 'natural'},
   {'summedFwdTime', 'number'}, {'summedBwdTime', 'number'},
   {'timer', 'any', check = function(t)
      if torch.typename(t) ~= 'torch.Timer' then return 'a torch.Timer', schema.holds(t) end
   end},
})

function Profile:__init(module, print_interval, name)
   if not torch.isTypeOf(module, 'nn.Module') then
      error('<nn.Profile> expects an nn module at argument 1, got ' .. torch.type(module), 2)
   end
   parent.__init(self, module)
   self.print_interval = print_interval or 100
   self.name = name or torch.type(module)
   self.module = module
   self.numFwds = 0
   self.numBwds = 0
   self.summedFwdTime = 0
   self.summedBwdTime = 0
   self.timer = torch.Timer()
end

-- adds the time since the timer's reset to the pass's sum; prints and restarts the count
-- every print_interval passes
local function count(self, pass, what)
   local time, n = 'summed' .. pass .. 'Time', 'num' .. pass .. 's'
   self[time] = self[time] + self.timer:time().real
   self[n] = self[n] + 1
   if self[n] % self.print_interval == 0 then
      print(string.format('%s took %.3f seconds for %d %s passes', self.name, self[time],
                          self.print_interval, what))
      self[n] = 0
      self[time] = 0
   end
end

function Profile:updateOutput(input)
   self.timer:reset()
   self.output = self:rethrowErrors(self.modules[1], 1, 'updateOutput', input)
   count(self, 'Fwd', 'forward')
   return self.output
end

function Profile:updateGradInput(input, gradOutput)
   self.timer:reset()
   self.gradInput = self:rethrowErrors(self.modules[1], 1, 'updateGradInput', input, gradOutput)
   count(self, 'Bwd', 'backward')
   return self.gradInput
end

-- a backward pass (the module's own backward: gradInput and the parameters' gradients)
function Profile:backward(input, gradOutput, scale)
   self.timer:reset()
   self.gradInput = self:rethrowErrors(self.modules[1], 1, 'backward', input, gradOutput, scale or 1)
   count(self, 'Bwd', 'backward')
   return self.gradInput
end

return Profile
