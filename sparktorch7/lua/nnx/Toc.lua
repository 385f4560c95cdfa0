-- nn.Toc([name = 'default', comment = '']): nnx's timer stop, the identity that prints
--   Toc '<name>' (<comment>) : <seconds since nn.Tic(name) last ran>
local schema = require('nn.schema')
local Toc, parent = torch.class('nn.Toc', 'nn.Module')

schema.declare(Toc, {{'name', 'string|number'}, {'comment', 'string?'}})

function Toc:__init(name, comment)
   parent.__init(self)
   self.name = name or 'default'
   self.comment = comment or ''
end

function Toc:updateOutput(input)
   local timer = tic_modules and tic_modules[self.name]
   if not timer then
      error(string.format("<nn.Toc> no nn.Tic('%s') has run before this Toc", tostring(self.name)), 2)
   end
   print("Toc '" .. self.name .. "' (" .. (self.comment or '') .. ") : " .. timer:time().real)
   self.output = input
   return self.output
end

function Toc:updateGradInput(input, gradOutput)
   self.gradInput = gradOutput
   return self.gradInput
end

return Toc
