-- nn.SpatialGraph{dist = 'euclid', normalize = true, connex = 4}: nnx's 4-connex edge weights
-- of a K x H x W map of non-negative features: output 2 x H x W, plane 1 the edge from (y, x)
-- to (y, x + 1), plane 2 to (y + 1, x) (0 on the last column/row). 'euclid': the Euclidean
-- distance of the feature vectors, times 1/sqrt(K) when normalize; 'cosine' (normalize
-- false): K minus the dot product of the vectors with 1e-12 added to every feature.
-- Backward as nnx's C code (a NumPy kernel; the cosine's gradient leaves out the 1e-12);
-- no parameters.
local schema = require('nn.schema')
local xlua = require('xlua')
local SpatialGraph, parent = torch.class('nn.SpatialGraph', 'nn.Module')

-- nnx stores dist as 0 (euclid) or 1 (cosine) and normalize as 0 or 1
schema.declare(SpatialGraph, {
   {'dist', 'natural', max = 1}, {'normalize', 'natural', max = 1},
   {'connex', 'posint', check = 'connex == 4'},
})

function SpatialGraph:__init(...)
   parent.__init(self)
   xlua.unpack_class(self, {...}, 'nn.SpatialGraph', 'an edge-weighted graph of a set of feature maps',
      {arg = 'dist', type = 'string', help = 'distance metric to use', default = 'euclid'},
      {arg = 'normalize', type = 'boolean', help = 'normalize euclidean distances btwn 0 and 1', default = true},
      {arg = 'connex', type = 'number', help = 'connexity', default = 4})
   if self.connex ~= 4 then
      error('<nn.SpatialGraph> 4 is the only connexity supported, got ' .. tostring(self.connex), 2)
   end
   if self.dist ~= 'euclid' and self.dist ~= 'cosine' then
      error("<nn.SpatialGraph> dist must be 'euclid' or 'cosine', got " .. tostring(self.dist), 2)
   end
   if self.dist == 'cosine' and self.normalize then
      error('<nn.SpatialGraph> normalized cosine is not supported (nnx neither): pass normalize = false', 2)
   end
   self.dist = self.dist == 'euclid' and 0 or 1
   self.normalize = self.normalize and 1 or 0
end

local function check(input)
   if not torch.isTensor(input) or input:dim() ~= 3 then
      error('<nn.SpatialGraph> input must be 3D (K x H x W), got '
            .. (torch.isTensor(input) and (input:dim() .. 'D') or torch.type(input)), 3)
   end
end

function SpatialGraph:updateOutput(input)
   check(input)
   local K, H, W = input:size(1), input:size(2), input:size(3)
   local out = require('nn.kernels').output(self, input, {2, H, W})
   out:zero()
   local x = self.dist == 1 and torch.add(input, 1e-12) or input
   -- accumulated channel by channel in the input's precision, as nnx's C code adds
   local right, down = out[1]:narrow(2, 1, W - 1), out[2]:narrow(1, 1, H - 1)
   local function pairs2(k)
      return x[k]:narrow(2, 1, W - 1), x[k]:narrow(2, 2, W - 1), x[k]:narrow(1, 1, H - 1), x[k]:narrow(1, 2, H - 1)
   end
   for k = 1, K do
      local a, b, c, d = pairs2(k)
      if self.dist == 0 then
         if W > 1 then right:add(torch.add(a, -1, b):pow(2)) end
         if H > 1 then down:add(torch.add(c, -1, d):pow(2)) end
      else
         if W > 1 then right:add(torch.cmul(a, b)) end
         if H > 1 then down:add(torch.cmul(c, d)) end
      end
   end
   if self.dist == 0 then
      out:sqrt()
      if self.normalize == 1 then out:mul(1 / math.sqrt(K)) end
   else
      if W > 1 then right:mul(-1):add(K) end
      if H > 1 then down:mul(-1):add(K) end
   end
   return out
end

-- needs the output of the forward on this input (as nnx's)
function SpatialGraph:updateGradInput(input, gradOutput)
   check(input)
   local H, W = input:size(2), input:size(3)
   if not torch.isTensor(gradOutput) or gradOutput:dim() ~= 3 or gradOutput:size(1) ~= 2
      or gradOutput:size(2) ~= H or gradOutput:size(3) ~= W then
      error(string.format('<nn.SpatialGraph> gradOutput must be 2x%dx%d, got %s', H, W, torch.isTensor(gradOutput)
                          and table.concat(gradOutput:size():totable(), 'x') or torch.type(gradOutput)), 2)
   end
   if not torch.isTensor(self.output) or self.output:dim() ~= 3 or self.output:size(2) ~= H
      or self.output:size(3) ~= W then
      error('<nn.SpatialGraph> updateGradInput needs the forward of this input first', 2)
   end
   nn.utils.checkSameType('nn.SpatialGraph', gradOutput, input)
   local kernels = require('nn.kernels')
   local gi = kernels.output(self, input, nil, 'gradInput')
   kernels.spatial_graph_grad(gi, input:contiguous(), self.output, gradOutput:contiguous(), self.dist == 1,
                              self.normalize == 1)
   return gi
end

return SpatialGraph
