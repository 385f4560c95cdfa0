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

local function check(self, value, what)
   if hasNaN(value) then
      error(string.format('<nn.NaN> NaN found in the %s of module %s (id %s)', what,
                          torch.type(self.modules[1]), tostring(self.id)), 3)
   end
end

function NaN:updateOutput(input)
   check(self, input, 'input')
   self.output = self:rethrowErrors(self.modules[1], 1, 'updateOutput', input)
   check(self, self.output, 'output')
   return self.output
end

-- the decorated module's gradInput, checked (naming gradOutput when the NaN came with it)
function NaN:_gatherGradInput(input, grads, args)
   local g = grads[1]
   if hasNaN(g) then
      check(self, args[1][3], 'gradOutput')
      check(self, g, 'gradInput')
   end
   self.gradInput = g
   return g
end

-- the decorated module's parameter gradients, checked after accumulating
function NaN:accGradParameters(input, gradOutput, scale)
   parent.accGradParameters(self, input, gradOutput, scale)
   local _, gradParams = self:parameters()
   check(self, gradParams, 'gradParameters')
end

function NaN:backward(input, gradOutput, scale)
   parent.backward(self, input, gradOutput, scale)
   local _, gradParams = self:parameters()
   check(self, gradParams, 'gradParameters')
   return self.gradInput
end

function NaN:__tostring__()
   return torch.type(self) .. ' ' .. tostring(self.id) .. ' @ ' .. tostring(self.modules[1])
end

return NaN
