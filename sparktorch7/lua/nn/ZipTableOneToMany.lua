-- nn.ZipTableOneToMany: {v, {a, b, c}} -> {{v, a}, {v, b}, {v, c}}, the same tensors
-- regrouped; backward sums the gradients of v's copies.
local schema = require('nn.schema')
local ZipTableOneToMany, parent = torch.class('nn.ZipTableOneToMany', 'nn.Module')

schema.declare(ZipTableOneToMany, {
   {'gradInputEl', 'tensor?'},
})

function ZipTableOneToMany:__init()
   parent.__init(self)
   self.output = {}
   self.gradInput = {}
   self.gradInputEl = torch.Tensor()
end

local function isList(t)
   return type(t) == 'table' and not torch.typename(t)
end

-- input checked to be {element, list}; returns them
local function split(input, name, level)
   if not isList(input) or #input ~= 2 or not isList(input[2]) then
      error(string.format('<nn.ZipTableOneToMany> %s must be a table {element, {tensors...}}, got %s', name,
                          isList(input) and ('a table of ' .. #input .. ' entries') or torch.type(input)), level)
   end
   return input[1], input[2]
end

function ZipTableOneToMany:updateOutput(input)
   local el, list = split(input, 'input', 3)
   self.output = {}
   for i, v in ipairs(list) do
      self.output[i] = {el, v}
   end
   return self.output
end

-- dE/dv = the sum over i of gradOutput[i][1]; dE/dlist[i] = gradOutput[i][2]
function ZipTableOneToMany:updateGradInput(input, gradOutput)
   local el, list = split(input, 'input', 3)
   if not isList(gradOutput) or #gradOutput ~= #list then
      error(string.format('<nn.ZipTableOneToMany> gradOutput must be a table of %d pairs, got %s', #list,
                          isList(gradOutput) and ('a table of ' .. #gradOutput .. ' entries') or torch.type(gradOutput)), 2)
   end
   if not torch.isTensor(self.gradInputEl) or torch.type(self.gradInputEl) ~= torch.type(el)
         or self.gradInputEl == el then
      self.gradInputEl = nn.utils.newLike(el)
   end
   self.gradInputEl:resizeAs(el):zero()
   local gradList = {}
   for i, g in ipairs(gradOutput) do
      if not isList(g) or not torch.isTensor(g[1]) or g[1]:nElement() ~= el:nElement() then
         error(string.format('<nn.ZipTableOneToMany> gradOutput[%d] must be a pair {tensor of %d elements, ' ..
                             'gradient}, got %s', i, el:nElement(), torch.type(g)), 2)
      end
      self.gradInputEl:add(g[1]:contiguous():viewAs(el))
      gradList[i] = g[2]
   end
   self.gradInput = {self.gradInputEl, gradList}
   return self.gradInput
end

function ZipTableOneToMany:clearState()
   self.gradInputEl = nn.utils.newLike(self.gradInputEl)
   return parent.clearState(self)
end

return ZipTableOneToMany
