-- nn.AffineTransformMatrixGenerator([useRotation, useScale, useTranslation]): stnbhwd's 2x3
-- affine matrices from a localisation network's B x P parameters (or one vector of P). With
-- no transformation named, P = 6 viewed as 2 x 3; otherwise the parameters are, in order,
-- the rotation angle a, the scale s and the translation (tx, ty) of those used, and the
-- matrix is the top two rows of R(a) S(s) T(tx, ty), R = [[cos a, -sin a], [sin a, cos a]].
-- Backward gives the parameters' gradient (stnbhwd's); no parameters of its own.
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

local function shape(t)
   return torch.isTensor(t) and table.concat(t:size():totable(), 'x') or torch.type(t)
end

-- input as B x P parameters, and whether it was one vector
local function batched(self, input)
   local single = torch.isTensor(input) and input:dim() == 1
   local p = single and input:contiguous():view(1, input:size(1)) or input
   local n = self:nParameters()
   if not torch.isTensor(p) or p:dim() ~= 2 or p:size(2) ~= n then
      error(string.format('<nn.AffineTransformMatrixGenerator> expected %d parameters (B x %d or %d), got %s',
                          n, n, n, shape(input)), 3)
   end
   return p, single
end

local function eye(b, like)
   local I = like.new(b, 3, 3):zero()
   for i = 1, 3 do I:select(3, i):select(2, i):fill(1) end
   return I
end

-- the B x 3 x 3 rotation, scale and translation of parameters p (the identity for the
-- transformations not used)
function ATMG:factors(p)
   local b, at = p:size(1), 1
   local R, S, T = eye(b, p), eye(b, p), eye(b, p)
   if self.useRotation then
      local a = p:select(2, at); at = at + 1
      local cs, sn = torch.cos(a), torch.sin(a)
      R:select(3, 1):select(2, 1):copy(cs); R:select(3, 2):select(2, 2):copy(cs)
      R:select(3, 1):select(2, 2):copy(sn); R:select(3, 2):select(2, 1):copy(-sn)
   end
   if self.useScale then
      local s = p:select(2, at); at = at + 1
      S:select(3, 1):select(2, 1):copy(s); S:select(3, 2):select(2, 2):copy(s)
   end
   if self.useTranslation then
      T:select(3, 3):select(2, 1):copy(p:select(2, at))
      T:select(3, 3):select(2, 2):copy(p:select(2, at + 1))
   end
   return R, S, T
end

function ATMG:updateOutput(input)
   local p, single = batched(self, input)
   local b = p:size(1)
   if self.fullMode then
      self.output = p:contiguous():view(b, 2, 3)
   else
      local R, S, T = self:factors(p)
      self.output = torch.bmm(torch.bmm(R, S), T):narrow(2, 1, 2)
   end
   if single then self.output = self.output:select(1, 1) end
   return self.output
end

-- Backward: with M = R S T and G the output's gradient (a zero third row added),
-- dE/dR = G (S T)', dE/dS = R' G T', dE/dT = (R S)' G; the angle's gradient is dE/dR
-- against dR/da, the scale's the trace of dE/dS's top-left 2 x 2, the translation's
-- dE/dT's third column. The full mode passes G through as B x 6.
function ATMG:updateGradInput(input, gradOutput)
   local p, single = batched(self, input)
   local b = p:size(1)
   if not torch.isTensor(gradOutput) or gradOutput:nElement() ~= b * 6 or gradOutput:dim() ~= (single and 2 or 3)
      or gradOutput:size(gradOutput:dim()) ~= 3 then
      error(string.format('<nn.AffineTransformMatrixGenerator> gradOutput must be %s2x3, got %s',
                          single and '' or (b .. 'x'), shape(gradOutput)), 2)
   end
   nn.utils.checkSameType('nn.AffineTransformMatrixGenerator', gradOutput, p)
   local G2 = gradOutput:contiguous():view(b, 2, 3)
   local gi = require('nn.kernels').output(self, p, {b, p:size(2)}, 'gradInput')
   if self.fullMode then
      gi:copy(G2:view(b, 6))
   else
      local G = p.new(b, 3, 3):zero()
      G:narrow(2, 1, 2):copy(G2)
      local R, S, T = self:factors(p)
      local at = 1
      if self.useRotation then
         local gR = torch.bmm(G, torch.bmm(S, T):transpose(2, 3))
         local a = p:select(2, at)
         local cs, sn = torch.cos(a), torch.sin(a)
         -- dR/da = [[-sin, -cos], [cos, -sin]]
         local g = torch.cmul(gR:select(3, 1):select(2, 1), -sn)
         g:add(-1, torch.cmul(gR:select(3, 2):select(2, 1), cs))
         g:add(torch.cmul(gR:select(3, 1):select(2, 2), cs))
         g:add(-1, torch.cmul(gR:select(3, 2):select(2, 2), sn))
         gi:select(2, at):copy(g)
         at = at + 1
      end
      if self.useScale then
         local gS = torch.bmm(torch.bmm(R:transpose(2, 3), G), T:transpose(2, 3))
         gi:select(2, at):copy(gS:select(3, 1):select(2, 1)):add(gS:select(3, 2):select(2, 2))
         at = at + 1
      end
      if self.useTranslation then
         local gT = torch.bmm(torch.bmm(R, S):transpose(2, 3), G)
         gi:select(2, at):copy(gT:select(3, 3):select(2, 1))
         gi:select(2, at + 1):copy(gT:select(3, 3):select(2, 2))
      end
   end
   if single then self.gradInput = gi:select(1, 1) end
   return self.gradInput
end

return ATMG
