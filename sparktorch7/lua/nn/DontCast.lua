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

function DontCast:_moduleType()
   local moduleType = self.moduleType or self.modules[1]:type()
   return moduleType and nn.utils.cpuType(moduleType)
end

function DontCast:updateOutput(input)
   local moduleType = self:_moduleType()
   local inputType = firstTensorType(input)
   if self.castin and moduleType then
      input = convert(input, moduleType)
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

-- backward: the module sees the input and gradOutput in its own type (with
-- castin / castout); the gradInput comes back in the input's type (castin)
function DontCast:_childArgs(input, gradOutput)
   local moduleType = self:_moduleType()
   if self.castin and moduleType then
      input = convert(input, moduleType)
   end
   if self.castout and moduleType then
      gradOutput = convert(gradOutput, moduleType)
   end
   return {{1, input, gradOutput}}
end

function DontCast:_gatherGradInput(input, grads)
   local g = grads[1]
   local inputType = firstTensorType(input)
   if self.castin and inputType then
      g = convert(g, inputType)
   end
   self.gradInput = g
   return g
end

return DontCast
