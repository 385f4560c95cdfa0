-- nn.MM: input {A, B} gives A * B (each optionally transposed: transA,
-- transB), for 2D matrices or 3D batches of matrices.
local schema = require('nn.schema')
local MM, parent = torch.class('nn.MM', 'nn.Module')

schema.declare(MM, {
   {'transA', 'boolean?'}, {'transB', 'boolean?'},
})

function MM:__init(transA, transB)
   parent.__init(self)
   self.transA = transA or false
   self.transB = transB or false
   self.gradInput = {torch.Tensor(), torch.Tensor()}
end

local function product(out, a, b)
   out:resize(a:size(1), b:size(2)):zero()
   out:addmm(0, out, 1, a, b)
end

function MM:updateOutput(input)
   if type(input) ~= 'table' or #input ~= 2 then
      error('<nn.MM> input must be a table of two tensors', 2)
   end
   local a, b = input[1], input[2]
   if a:dim() ~= b:dim() or (a:dim() ~= 2 and a:dim() ~= 3) then
      error('<nn.MM> input tensors must be both 2D or both 3D', 2)
   end
   if not torch.isTensor(self.output) or torch.type(self.output) ~= torch.type(a)
      or self.output == a or self.output == b then
      self.output = nn.utils.newLike(a)
   end
   local batched = a:dim() == 3
   local ta, tb = self.transA, self.transB
   if batched then
      local n = a:size(1)
      if b:size(1) ~= n then
         error('<nn.MM> inputs must have the same batch size', 2)
      end
      local ai, bi = ta and a:select(1, 1):t() or a:select(1, 1), tb and b:select(1, 1):t() or b:select(1, 1)
      if ai:size(2) ~= bi:size(1) then
         error(string.format('<nn.MM> matrix sizes do not match: %dx%d times %dx%d',
                             ai:size(1), ai:size(2), bi:size(1), bi:size(2)), 2)
      end
      self.output:resize(n, ai:size(1), bi:size(2)):zero()
      for i = 1, n do
         local x, y = a:select(1, i), b:select(1, i)
         if ta then x = x:t() end
         if tb then y = y:t() end
         self.output:select(1, i):addmm(0, self.output:select(1, i), 1, x, y)
      end
   else
      local x, y = ta and a:t() or a, tb and b:t() or b
      if x:size(2) ~= y:size(1) then
         error(string.format('<nn.MM> matrix sizes do not match: %dx%d times %dx%d',
                             x:size(1), x:size(2), y:size(1), y:size(2)), 2)
      end
      product(self.output, x, y)
   end
   return self.output
end

return MM
