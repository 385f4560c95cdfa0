-- nn.NaN: a decorator that raises an error naming the module (and its id)
-- when the decorated module's input or output holds a NaN.
local pointwise = require('nn.pointwise')
local schema = require('nn.schema')
local NaN, parent = torch.class('nn.NaN', 'nn.Decorator')

schema.declare(NaN, {
   {'id', 'any?'},
})

local idseq = 0

function NaN:__init(module, id)
   parent.__init(self, module)
   idseq = idseq + 1
   self.id = id or idseq
end

local function hasNaN(value)
   if torch.isTensor(value) then
      local x = pointwise.contiguous(value)
      local p = x:data()
      for i = 0, x:nElement() - 1 do
         if p[i] ~= p[i] then return true end
      end
   elseif type(value) == 'table' then
      for _, v in pairs(value) do
         if hasNaN(v) then return true end
      end
   end
   return false
end

function NaN:updateOutput(input)
   if hasNaN(input) then
      error(string.format('<nn.NaN> NaN found in the input of module %s (id %s)',
                          torch.type(self.modules[1]), tostring(self.id)), 2)
   end
   self.output = self:rethrowErrors(self.modules[1], 1, 'updateOutput', input)
   if hasNaN(self.output) then
      error(string.format('<nn.NaN> NaN found in the output of module %s (id %s)',
                          torch.type(self.modules[1]), tostring(self.id)), 2)
   end
   return self.output
end

function NaN:__tostring__()
   return torch.type(self) .. ' ' .. tostring(self.id) .. ' @ ' .. tostring(self.modules[1])
end

return NaN
