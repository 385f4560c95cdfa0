-- Plumbing shared by the gradients of the modules that take a table of
-- tensors (CAddTable, CMulTable, JoinTable, MixtureTable, ...): gradInput is a
-- table holding one gradient tensor per input. Returns its table.
local tablegrad = {}

-- self.gradInput made a table (emptied of elements past n when n is given).
function tablegrad.table(self, n)
   if type(self.gradInput) ~= 'table' or torch.typename(self.gradInput) then
      self.gradInput = {}
   end
   if n then
      for k = #self.gradInput, n + 1, -1 do
         self.gradInput[k] = nil
      end
   end
   return self.gradInput
end

-- t[i] made a contiguous tensor of like's type and size (kept between calls
-- when it fits, never like itself); returns it and its data pointer.
function tablegrad.slot(t, i, like)
   local g = t[i]
   if not torch.isTensor(g) or torch.type(g) ~= torch.type(like) or g == like then
      g = nn.utils.newLike(like)
   end
   g:resizeAs(like)
   if not g:isContiguous() then
      g = nn.utils.newLike(like):resizeAs(like)
   end
   t[i] = g
   return g, g:data()
end

-- the same for self.gradInput[i]
function tablegrad.like(self, i, like)
   return tablegrad.slot(tablegrad.table(self), i, like)
end

-- gradOutput checked to be a tensor of n elements, as a contiguous tensor.
function tablegrad.gradOutput(gradOutput, n, name)
   if not torch.isTensor(gradOutput) then
      error(string.format('<%s> gradOutput must be a tensor, not a %s', name, torch.type(gradOutput)), 3)
   end
   if gradOutput:nElement() ~= n then
      error(string.format('<%s> gradOutput has %d elements, the output %d', name,
                          gradOutput:nElement(), n), 3)
   end
   return require('nn.pointwise').contiguous(gradOutput)
end

-- The gradient of an elementwise max (sign 1) or min (sign -1) of a table of
-- tensors: each element of gradOutput goes to the input holding the extreme
-- value there (the first of equal ones), 0 to the others.
function tablegrad.toExtremes(self, input, gradOutput, name, sign)
   local pointwise = require('nn.pointwise')
   local first = pointwise.firstOfTable(input, name)
   local n = first:nElement()
   local go = tablegrad.gradOutput(gradOutput, n, name):data()
   local xs, gs = {}, {}
   tablegrad.table(self, #input)
   for k = 1, #input do
      xs[k] = pointwise.sameShape(input[k], first, k, name):data()
      local g, p = tablegrad.like(self, k, input[k])
      g:zero()
      gs[k] = p
   end
   for i = 0, n - 1 do
      local best, at = sign * xs[1][i], 1
      for k = 2, #input do
         local v = sign * xs[k][i]
         if v > best then best, at = v, k end
      end
      gs[at][i] = go[i]
   end
   return self.gradInput
end

return tablegrad
