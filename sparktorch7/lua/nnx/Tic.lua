-- nn.Tic([name = 'default']): nnx's timer start, the identity that resets the torch.Timer
-- kept under its name in the global table tic_modules (nn.Toc of the same name prints the
-- time since). A Tic read from a file makes its timer at its first forward.
local schema = require('nn.schema')
local Tic, parent = torch.class('nn.Tic', 'nn.Module')

schema.declare(Tic, {{'name', 'string|number'}})

function Tic:__init(name)
   parent.__init(self)
   self.name = name or 'default'
   tic_modules = tic_modules or {}
   tic_modules[self.name] = torch.Timer()
end

function Tic:updateOutput(input)
   tic_modules = tic_modules or {}
   if tic_modules[self.name] then
      tic_modules[self.name]:reset()
   else
      tic_modules[self.name] = torch.Timer()
   end
   self.output = input
   return self.output
end

function Tic:updateGradInput(input, gradOutput)
   self.gradInput = gradOutput
   return self.gradInput
end

return Tic
