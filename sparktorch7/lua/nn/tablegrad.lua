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

return tablegrad
