-- nn.AffineTransformMatrixGenerator([useRotation, useScale, useTranslation]): stnbhwd's 2x3
-- affine matrices from a localisation network's B x P parameters (or one vector of P). With
-- no transformation named, P = 6 viewed as 2 x 3; otherwise the parameters are, in order,
-- the rotation angle a, the scale s and the translation (tx, ty) of those used, and the
-- matrix is the top two rows of R(a) S(s) T(tx, ty), R = [[cos a, -sin a], [sin a, cos a]].
-- Forward only.
local schema = require('nn.schema')
local ATMG, parent = torch.class('nn.AffineTransformMatrixGenerator', 'nn.Module')

schema.declare(ATMG, {
   {'fullMode', 'boolean'},
   {'useRotation', 'boolean?'}, {'useScale', 'boolean?'}, {'useTranslation', 'boolean?'},
})

function ATMG:__init(useRotation, useScale, useTranslation)
   parent.__init(self)
   self.fullMode = not (useRotation or useScale or useTranslation)
   if not self.fullMode then
      self.useRotation, self.useScale, self.useTranslation = useRotation, useScale, useTranslation
   end
end

function ATMG:nParameters()
   if self.fullMode then return 6 end
   return (self.useRotation and 1 or 0) + (self.useScale and 1 or 0) + (self.useTranslation and 2 or 0)
end

function ATMG:updateOutput(input)
   local single = torch.isTensor(input) and input:dim() == 1
   local p = single and input:contiguous():view(1, input:size(1)) or input
   local n = self:nParameters()
   if not torch.isTensor(p) or p:dim() ~= 2 or p:size(2) ~= n then
      error(string.format('<nn.AffineTransformMatrixGenerator> expected %d parameters (B x %d or %d), got %s', n, n, n,
                          torch.isTensor(input) and table.concat(input:size():totable(), 'x') or torch.type(input)), 2)
   end
   local b = p:size(1)
   if self.fullMode then
      self.output = p:contiguous():view(b, 2, 3)
   else
      local M = torch.zeros(b, 3, 3):typeAs(p)
      for i = 1, 3 do M:select(3, i):select(2, i):fill(1) end
      local T = torch.Tensor(b, 3, 3):typeAs(p)
      local at = 1
      if self.useRotation then
         local a = p:select(2, at); at = at + 1
         T:zero(); T:select(3, 3):select(2, 3):fill(1)
         local cs, sn = torch.cos(a), torch.sin(a)
         T:select(3, 1):select(2, 1):copy(cs); T:select(3, 2):select(2, 2):copy(cs)
         T:select(3, 1):select(2, 2):copy(sn); T:select(3, 2):select(2, 1):copy(-sn)
         M = torch.bmm(M, T)
      end
      if self.useScale then
         local s = p:select(2, at); at = at + 1
         T:zero(); T:select(3, 1):select(2, 1):copy(s); T:select(3, 2):select(2, 2):copy(s)
         T:select(3, 3):select(2, 3):fill(1)
         M = torch.bmm(M, T)
      end
      if self.useTranslation then
         T:zero()
         for i = 1, 3 do T:select(3, i):select(2, i):fill(1) end
         T:select(3, 3):select(2, 1):copy(p:select(2, at))
         T:select(3, 3):select(2, 2):copy(p:select(2, at + 1))
         M = torch.bmm(M, T)
      end
      self.output = M:narrow(2, 1, 2)
   end
   if single then self.output = self.output:select(1, 1) end
   return self.output
end

return ATMG
