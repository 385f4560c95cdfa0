-- nn.MultiLabelMarginCriterion: a multi-class multi-label hinge loss. For an input x of
-- C scores (1D, or a batch of rows) and a target of the same size listing the sample's
-- classes (1-based, the list ending at the first 0: {3, 1, 0, 0} is classes 3 and 1),
-- the loss is sum over listed classes j and unlisted classes i of
-- max(0, 1 - (x[j] - x[i])), divided by C (and by the rows with sizeAverage). The sums
-- run in NumPy kernels (nn.kernels.multilabel_margin); isTarget marks the listed
-- classes, as Torch7's.
local kernels = require('nn.kernels')
local schema = require('nn.schema')
local MultiLabelMarginCriterion, parent = torch.class('nn.MultiLabelMarginCriterion', 'nn.Criterion')

schema.declare(MultiLabelMarginCriterion, {
   {'isTarget', 'tensor?'}, {'output_tensor', 'tensor?'},
})

local NAME = '<nn.MultiLabelMarginCriterion>'

function MultiLabelMarginCriterion:__init()
   parent.__init(self)
   self.sizeAverage = true
   self.isTarget = torch.Tensor()
end

-- the checked target as a LongTensor (Torch7 casts it)
local function labels(input, target)
   if not torch.isTensor(input) or (input:dim() ~= 1 and input:dim() ~= 2) then
      error(string.format('%s input must be a 1D or 2D tensor, not %s', NAME, nn.utils.describe(input)), 3)
   end
   if not torch.isTensor(target) or not target:isSameSizeAs(input) then
      error(string.format('%s target must be a tensor of the input\'s size %s, not %s', NAME,
                          table.concat(input:size():totable(), 'x'), nn.utils.describe(target)), 3)
   end
   local t = target:long()
   local lo, hi = t:min(), t:max()
   local dim = input:size(input:dim())
   if lo < 0 or hi > dim then
      error(string.format('%s target %d out of range [0, %d] (0 ends a list)', NAME, lo < 0 and lo or hi, dim), 3)
   end
   return t
end

function MultiLabelMarginCriterion:updateOutput(input, target)
   local t = labels(input, target)
   if torch.type(self.output_tensor) ~= torch.type(input) then
      self.output_tensor = input.new(1)
   end
   local isTarget = kernels.output(self, input, nil, 'isTarget')
   kernels.multilabel_margin(self.output_tensor, isTarget, input, t, self.sizeAverage)
   self.output = self.output_tensor[1]
   return self.output
end

-- each hinge term counted adds 1/C (1/(C rows) with sizeAverage) to the gradient of
-- x[i] and takes it from that of x[j]
function MultiLabelMarginCriterion:updateGradInput(input, target)
   local t = labels(input, target)
   local g = kernels.output(self, input, nil, 'gradInput')
   kernels.multilabel_margin_grad(g, input, t, self.sizeAverage)
   return g
end

return MultiLabelMarginCriterion
