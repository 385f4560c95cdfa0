-- nn.MM: input {A, B} gives A * B (each optionally transposed: transA,
-- transB), for 2D matrices or 3D batches of matrices.
local pointwise = require('nn.pointwise')
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
         error(string.format('<nn.MM> size mismatch: %dx%d times %dx%d',
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
         error(string.format('<nn.MM> size mismatch: %dx%d times %dx%d',
                             x:size(1), x:size(2), y:size(1), y:size(2)), 2)
      end
      product(self.output, x, y)
   end
   return self.output
end

-- C = op(A) op(B): dE/dA and dE/dB from the products of gradOutput with the other input
-- (transposed as op asks); 3D inputs are batches, one product per matrix.
function MM:updateGradInput(input, gradOutput)
   local a, b = input[1], input[2]
   if not torch.isTensor(gradOutput) or not torch.isTensor(self.output)
         or not gradOutput:isSameSizeAs(self.output) then
      error('<nn.MM> gradOutput must have the size of the output: run forward on this input first', 2)
   end
   local ga = pointwise.zeroGradAt(self, 1, a, gradOutput)
   local gb = pointwise.zeroGradAt(self, 2, b, gradOutput)
   local ta, tb = self.transA, self.transB
   local function grads(gA, gB, A, B, G)
      -- C = A B:    dA = G B',  dB = A' G      C = A' B:  dA = B G',  dB = A G
      -- C = A B':   dA = G B,   dB = G' A      C = A' B': dA = B' G', dB = G' A'
      local X, Y
      if ta then X, Y = (tb and B:t() or B), G:t() else X, Y = G, (tb and B or B:t()) end
      gA:addmm(0, gA, 1, X, Y)
      if tb then X, Y = G:t(), (ta and A:t() or A) else X, Y = (ta and A or A:t()), G end
      gB:addmm(0, gB, 1, X, Y)
   end
   if a:dim() == 3 then
      for i = 1, a:size(1) do
         grads(ga:select(1, i), gb:select(1, i), a:select(1, i), b:select(1, i), gradOutput:select(1, i))
      end
   else
      grads(ga, gb, a, b, gradOutput)
   end
   return self.gradInput
end

return MM
