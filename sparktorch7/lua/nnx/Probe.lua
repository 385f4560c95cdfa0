-- nn.Probe([name = 'unnamed', display]): nnx's debugging identity: each forward prints the
-- input's size, mean, std, min, max and the time since the last probe; each backward the
-- same of gradOutput. (display, which opened a qt window, is ignored: no display here.)
local schema = require('nn.schema')
local Probe, parent = torch.class('nn.Probe', 'nn.Module')

schema.declare(Probe, {{'name', 'string|number'}, {'display', 'any'}})

function Probe:__init(name, display)
   parent.__init(self)
   self.name = name or 'unnamed'
   self.display = display
   nn._ProbeTimer = nn._ProbeTimer or torch.Timer()
end

local function report(legend, t)
   if not torch.isTensor(t) then
      error(string.format('<nn.Probe> %s must be a tensor, got %s', legend, torch.type(t)), 3)
   end
   nn._ProbeTimer = nn._ProbeTimer or torch.Timer()
   local now = nn._ProbeTimer:time().real
   local diff = now - (nn._ProbeLast or 0)
   nn._ProbeLast = now
   print('')
   print(legend)
   print('  + size = ' .. table.concat(t:size():totable(), 'x'))
   print('  + mean = ' .. t:mean())
   print('  + std = ' .. t:std())
   print('  + min = ' .. t:min())
   print('  + max = ' .. t:max())
   print('  + time since last probe = ' .. string.format('%0.1f', diff * 1000) .. 'ms')
end

function Probe:updateOutput(input)
   report('<' .. self.name .. '>.output', input)
   self.output = input
   return self.output
end

function Probe:updateGradInput(input, gradOutput)
   report('layer<' .. self.name .. '>.gradInput', gradOutput)
   self.gradInput = gradOutput
   return self.gradInput
end

return Probe
