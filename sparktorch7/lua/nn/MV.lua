-- nn.MV: input {M, v} gives M * v (M transposed when trans), for a 2D M and
-- 1D v, or a batch: 3D M and 2D v.
local pointwise = require('nn.pointwise')
local kernels = require('nn.kernels')
local schema = require('nn.schema')
local MV, parent = torch.class('nn.MV', 'nn.Module')

schema.declare(MV, {
   {'trans', 'boolean?'},
})

function MV:__init(trans)
   parent.__init(self)
   self.trans = trans or false
   self.gradInput = {torch.Tensor(), torch.Tensor()}
end

function MV:updateOutput(input)
   if type(input) ~= 'table' or #input ~= 2 then
      error('<nn.MV> input must be a table {matrix, vector}', 2)
   end
   local M, v = input[1], input[2]
   local batched = M:dim() == 3
   if not ((M:dim() == 2 and v:dim() == 1) or (batched and v:dim() == 2)) then
      error('<nn.MV> input must be {2D matrix, 1D vector} or {3D batch of matrices, 2D batch of vectors}', 2)
   end
   if not batched then
      M = M:view(torch.LongStorage({1, M:size(1), M:size(2)}))
      v = v:view(torch.LongStorage({1, v:size(1)}))
   end
   local n, r, c = M:size(1), M:size(2), M:size(3)
   local rows, cols = r, c
   if self.trans then rows, cols = c, r end
   if v:size(2) ~= cols or v:size(1) ~= n then
      error(string.format('<nn.MV> matrix of %d columns times vector of %d elements', cols, v:size(2)), 2)
   end
   local out = kernels.output(self, input[1],
      batched and torch.LongStorage({n, rows}) or torch.LongStorage({rows}))
   local mc, vc = pointwise.contiguous(M), pointwise.contiguous(v)
   local mp, vp, yp = mc:data(), vc:data(), out:data()
   for b = 0, n - 1 do
      local mbase, vbase = b * r * c, b * cols
      for i = 0, rows - 1 do
         local s = 0
         for j = 0, cols - 1 do
            local m
            if self.trans then m = mp[mbase + j * c + i] else m = mp[mbase + i * c + j] end
            s = s + m * vp[vbase + j]
         end
         yp[b * rows + i] = s
      end
   end
   return out
end

return MV
