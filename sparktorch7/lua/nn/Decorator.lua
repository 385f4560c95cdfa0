-- nn.Decorator: wraps one module (self.modules[1]) and forwards through it;
-- the base of the decorating modules (nn.DontCast, nn.NaN, nn.Inception).
local schema = require('nn.schema')
local Decorator, parent = torch.class('nn.Decorator', 'nn.Container')

schema.declare(Decorator, {
   {'modules', 'modules', check = schema.decorated},
   {'module', 'module?'},
})

function Decorator:__init(module)
   parent.__init(self)
   self.modules[1] = module
end

function Decorator:updateOutput(input)
   self.output = self:rethrowErrors(self.modules[1], 1, 'updateOutput', input)
   return self.output
end

function Decorator:__tostring__()
   return torch.type(self) .. ' @ ' .. tostring(self.modules[1])
end

-- backward goes through the one module, with the input and gradOutput as they are
function Decorator:_childArgs(input, gradOutput)
   return {{1, input, gradOutput}}
end

function Decorator:_gatherGradInput(input, grads)
   self.gradInput = grads[1]
   return self.gradInput
end

return Decorator
