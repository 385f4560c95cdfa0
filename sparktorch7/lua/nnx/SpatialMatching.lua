-- nn.SpatialMatching([maxh = 11, maxw = 11, full_output = false]): nnx's matching cost of two
-- K x H x W maps (stereo, optical flow): the input {a, b} gives H1 x W1 x maxh x maxw, at
-- (y, x, dy, dx) the squared distance between a's and b's feature vectors at (y, x) and
-- (y + dy - 1, x + dx - 1) (1-based dy, dx). Without full_output b must cover a's size
-- plus maxh - 1 rows and maxw - 1 columns; with full_output a and b have the same size, the
-- window is centred on (y, x) (offsets from -(ceil(maxh / 2) - 1)) and places outside b
-- hold 1e30. Backward: {dE/da, dE/db} (2 (a - b) dE/dout, summed over the pairs; pairs outside
-- b give nothing), in gradInput1 and gradInput2 as nnx; no parameters.
local schema = require('nn.schema')
local kernels = require('nn.kernels')
local SpatialMatching, parent = torch.class('nn.SpatialMatching', 'nn.Module')

schema.declare(SpatialMatching, {
   {'maxh', 'posint'}, {'maxw', 'posint'}, {'full_output', 'boolean?'},
})

function SpatialMatching:__init(maxh, maxw, full_output)
   parent.__init(self)
   self.maxw = maxw or 11
   self.maxh = maxh or 11
   if full_output == nil then full_output = false end
   self.full_output = full_output
end

local function shape(t) return torch.isTensor(t) and table.concat(t:size():totable(), 'x') or torch.type(t) end

-- the two maps, checked
function SpatialMatching:maps(input)
   if type(input) ~= 'table' or torch.typename(input) or not torch.isTensor(input[1]) or not torch.isTensor(input[2])
      or input[1]:dim() ~= 3 or input[2]:dim() ~= 3 or input[1]:size(1) ~= input[2]:size(1) then
      error('<nn.SpatialMatching> input must be {a, b}, two K x H x W maps of as many planes, got '
            .. (type(input) == 'table' and not torch.typename(input) and ('{' .. shape(input[1]) .. ', '
            .. shape(input[2]) .. '}') or torch.type(input)), 3)
   end
   local a, b = input[1], input[2]
   if not self.full_output and (b:size(2) < a:size(2) + self.maxh - 1 or b:size(3) < a:size(3) + self.maxw - 1) then
      error(string.format('<nn.SpatialMatching> without full_output the second map must be at least %dx%d '
                          .. '(the first, %dx%d, plus maxh - 1, maxw - 1), got %dx%d', a:size(2) + self.maxh - 1,
                          a:size(3) + self.maxw - 1, a:size(2), a:size(3), b:size(2), b:size(3)), 3)
   end
   nn.utils.checkSameType('nn.SpatialMatching', b, a)
   return a:contiguous(), b:contiguous()
end

function SpatialMatching:updateOutput(input)
   local a, b = self:maps(input)
   local out = kernels.output(self, a, {a:size(2), a:size(3), self.maxh, self.maxw})
   kernels.spatial_matching(out, a, b, self.full_output and true or false)
   return out
end

-- both matchings' backward: gradOutput (H1 x W1 x maxh x maxw, or its view `sizes`) checked,
-- then spatial_matching_grad into gradInput1 and gradInput2
function nn.SpatialMatching.matchingGrad(self, a, b, gradOutput, sizes, full)
   local fits = torch.isTensor(gradOutput) and gradOutput:dim() == #sizes
   for d, v in ipairs(sizes) do fits = fits and gradOutput:size(d) == v end
   if not fits then
      error(string.format('<%s> gradOutput must be the output\'s size, %s, got %s', torch.type(self),
                          table.concat(sizes, 'x'), shape(gradOutput)), 3)
   end
   nn.utils.checkSameType(torch.type(self), gradOutput, a)
   local g1 = kernels.output(self, a, nil, 'gradInput1')
   local g2 = kernels.output(self, b, nil, 'gradInput2')
   kernels.spatial_matching_grad(g1, g2, a, b,
                                 gradOutput:contiguous():view(a:size(2), a:size(3), self.maxh, self.maxw or 1), full)
   self.gradInput = {g1, g2}
   return self.gradInput
end

function SpatialMatching:updateGradInput(input, gradOutput)
   local a, b = self:maps(input)
   return self:matchingGrad(a, b, gradOutput, {a:size(2), a:size(3), self.maxh, self.maxw},
                            self.full_output and true or false)
end

return SpatialMatching
