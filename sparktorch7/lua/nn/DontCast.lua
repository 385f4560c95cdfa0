-- nn.DontCast: a decorator whose module keeps its tensor type when the model
-- is converted; with castin/castout, inputs are converted to the module's
-- type and outputs back to the input's type.
local schema = require('nn.schema')
local DontCast, parent = torch.class('nn.DontCast', 'nn.Decorator')

schema.declare(DontCast, {
   {'castin', 'boolean?'}, {'castout', 'boolean?'}, {'moduleType', 'string?'},
})

function DontCast:__init(module, castin, castout, moduleType)
   parent.__init(self, module)
   self.castin = castin
   self.castout = (castout == nil) and castin or castout
   self.moduleType = moduleType
end

local function convert(value, typename)
   if torch.isTensor(value) then
      if torch.typename(value) == typename then
         return value
      end
      return value:type(typename)
   elseif type(value) == 'table' then
      local t = {}
      for k, v in pairs(value) do t[k] = convert(v, typename) end
      return t
   end
   return value
end

local function firstTensorType(value)
   if torch.isTensor(value) then
      return torch.typename(value)
   elseif type(value) == 'table' then
      for _, v in pairs(value) do
         local t = firstTensorType(v)
         if t then return t end
      end
   end
end

function DontCast:updateOutput(input)
   local moduleType = self.moduleType or self.modules[1]:type()
   local inputType = firstTensorType(input)
   if self.castin and moduleType then
      input = convert(input, nn.utils.cpuType(moduleType))
   end
   local output = self:rethrowErrors(self.modules[1], 1, 'updateOutput', input)
   if self.castout and inputType then
      output = convert(output, inputType)
   end
   self.output = output
   return output
end

-- the decorated module keeps its type
function DontCast:type(typename, tensorCache)
   if not typename then
      return parent.type(self)
   end
   return self
end

return DontCast
