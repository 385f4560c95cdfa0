-- nn.AffineGridGeneratorBHWD(height, width): stnbhwd's sampling grid of a batch of 2x3 affine
-- matrices (B x 2 x 3, or one 2 x 3): output B x height x width x 2, at (i, j) the matrix
-- times (y, x, 1), y = -1 + 2 (i - 1) / (height - 1) and x alike (normalised coordinates,
-- y first), for nn.BilinearSamplerBHWD. Backward: the gradient of each matrix is the grid's
-- gradient (hw x 2) transposed times the base grid (hw x 3); no parameters.
local schema = require('nn.schema')
local AGG, parent = torch.class('nn.AffineGridGeneratorBHWD', 'nn.Module')

schema.declare(AGG, {
   {'height', 'posint', min = 2}, {'width', 'posint', min = 2},
   {'baseGrid', 'tensor', size = {'height', 'width', 3}},
   {'batchGrid', 'tensor?'},
})

function AGG:__init(height, width)
   parent.__init(self)
   if type(height) ~= 'number' or type(width) ~= 'number' or height < 2 or width < 2 then
      error(string.format('<nn.AffineGridGeneratorBHWD> expects (height, width), both > 1, got (%s, %s)',
                          tostring(height), tostring(width)), 2)
   end
   self.height, self.width = height, width
   self.baseGrid = torch.Tensor(height, width, 3)
   for i = 1, height do self.baseGrid:select(3, 1):select(1, i):fill(-1 + (i - 1) / (height - 1) * 2) end
   for j = 1, width do self.baseGrid:select(3, 2):select(2, j):fill(-1 + (j - 1) / (width - 1) * 2) end
   self.baseGrid:select(3, 3):fill(1)
   self.batchGrid = torch.Tensor(1, height, width, 3):copy(self.baseGrid)
end

local function shape(t)
   return torch.isTensor(t) and table.concat(t:size():totable(), 'x') or torch.type(t)
end

-- input as B x 2 x 3 matrices, and whether it was one 2 x 3 matrix
local function batched(self, input)
   local single = torch.isTensor(input) and input:dim() == 2
   local m = single and input:contiguous():view(1, input:size(1), input:size(2)) or input
   if not torch.isTensor(m) or m:dim() ~= 3 or m:size(2) ~= 2 or m:size(3) ~= 3 then
      error('<nn.AffineGridGeneratorBHWD> please input affine transform matrices (B x 2 x 3 or 2 x 3), got '
            .. shape(input), 3)
   end
   nn.utils.checkSameType('nn.AffineGridGeneratorBHWD', m, self.baseGrid)
   return m, single
end

function AGG:updateOutput(input)
   local m, single = batched(self, input)
   local b, hw = m:size(1), self.height * self.width
   local grid = self.baseGrid:contiguous():view(1, hw, 3):expand(b, hw, 3)
   local out = require('nn.kernels').output(self, m, {b, self.height, self.width, 2})
   out:view(b, hw, 2):bmm(grid:contiguous(), m:transpose(2, 3))
   if single then self.output = out:select(1, 1) end
   return self.output
end

function AGG:updateGradInput(input, gradOutput)
   local m, single = batched(self, input)
   local b, hw = m:size(1), self.height * self.width
   if not torch.isTensor(gradOutput) or gradOutput:nElement() ~= b * hw * 2 or gradOutput:dim() ~= (single and 3 or 4)
      or gradOutput:size(gradOutput:dim()) ~= 2 then
      error(string.format('<nn.AffineGridGeneratorBHWD> gradOutput must be the grid\'s size, %s%dx%dx2, got %s',
                          single and '' or (b .. 'x'), self.height, self.width, shape(gradOutput)), 2)
   end
   nn.utils.checkSameType('nn.AffineGridGeneratorBHWD', gradOutput, m)
   -- (2B x hw) rows of the grid's gradient, times the base grid (hw x 3)
   local rows = gradOutput:contiguous():view(b, hw, 2):transpose(2, 3):contiguous():view(b * 2, hw)
   local gi = require('nn.kernels').output(self, m, {b, 2, 3}, 'gradInput')
   gi:view(b * 2, 3):mm(rows, self.baseGrid:contiguous():view(hw, 3))
   if single then self.gradInput = gi:select(1, 1) end
   return self.gradInput
end

return AGG
