-- nn.View: a view of the input with the given sizes (one may be -1, inferred);
-- leading dimensions left over are a batch dimension.
local pointwise = require('nn.pointwise')
local schema = require('nn.schema')
local View, parent = torch.class('nn.View', 'nn.Module')

schema.declare(View, {
   {'size', 'longstorage', check = schema.viewSizes},
   {'numElements', 'natural?', check = function(n, m)
      local count = 1
      for i = 1, m.size:size() do
         if m.size[i] >= 0 then count = count * m.size[i] end
      end
      if n ~= count then
         return string.format('%d (the product of the sizes that are not -1)', count), schema.holds(n)
      end
   end},
   {'numInputDims', 'natural?'},
})

function View:resetSize(...)
   local first = select(1, ...)
   if select('#', ...) == 1 and torch.typename(first) == 'torch.LongStorage' then
      self.size = first
   else
      self.size = torch.LongStorage({...})
   end
   self:_countElements()
   return self
end

function View:_countElements()
   local count, inferred = 1, false
   for i = 1, self.size:size() do
      local s = self.size[i]
      if s >= 0 then
         count = count * s
      elseif s == -1 then
         if inferred then
            error('<nn.View> only one dimension can be -1', 3)
         end
         inferred = true
      else
         error('<nn.View> sizes must be positive or -1', 3)
      end
   end
   self.numElements = count
end

function View:__init(...)
   parent.__init(self)
   self:resetSize(...)
   self.numInputDims = nil
end

function View:setNumInputDims(numInputDims)
   self.numInputDims = numInputDims
   return self
end

-- The batch size in front of the view sizes, or nil when there is none.
local function batchSize(input, size, numInputDims, numElements)
   local ind = input:dim()
   local maxdim = numInputDims or ind
   local ine = 1
   for i = ind, ind - maxdim + 1, -1 do
      ine = ine * input:size(i)
   end
   if numElements == 0 or ine % numElements ~= 0 then
      error(string.format('<nn.View> input view (%s) and desired view (%s) do not match',
                          table.concat(input:size():totable(), 'x'),
                          table.concat(size:totable(), 'x')), 3)
   end
   local bsz = ine / numElements
   for i = 1, size:size() do
      if size[i] == -1 then
         bsz = 1
         break
      end
   end
   for i = ind - maxdim, 1, -1 do
      bsz = bsz * input:size(i)
   end
   if bsz == 1 and (not numInputDims or ind <= numInputDims) then
      return nil
   end
   return bsz
end

function View:updateOutput(input)
   if not self.numElements then
      self:_countElements()
   end
   local bsz = batchSize(input, self.size, self.numInputDims, self.numElements)
   local sizes = {}
   if bsz then
      sizes[1] = bsz
   end
   local known, hole = bsz or 1, nil
   for i = 1, self.size:size() do
      local s = self.size[i]
      sizes[#sizes + 1] = s
      if s == -1 then
         hole = #sizes
      else
         known = known * s
      end
   end
   local n = input:nElement()
   if hole then
      sizes[hole] = n / known
   end
   local x = pointwise.contiguous(input)
   self.output = x:view(torch.LongStorage(sizes))
   return self.output
end

function View:__tostring__()
   return torch.type(self) .. '(' .. table.concat(self.size:totable(), ', ') .. ')'
end

-- dE/dx = dE/dy seen with the input's sizes
function View:updateGradInput(input, gradOutput)
   return pointwise.viewGrad(self, input, gradOutput, 'nn.View')
end

return View
