-- nn.MaskZeroCriterion(criterion, nInputDim): criterion over the samples of a
-- batch whose input is not all zeros (0 when every sample is zero).
local schema = require('nn.schema')
local MaskZeroCriterion, parent = torch.class('nn.MaskZeroCriterion', 'nn.Criterion')

schema.declare(MaskZeroCriterion, {
   {'criterion', 'criterion'},
   {'nInputDim', 'natural'},
   {'zeroMask', 'tensor|boolean?'}, {'input', 'tensor|table?'}, {'target', 'tensor|table?'},
})

function MaskZeroCriterion:__init(criterion, nInputDim)
   parent.__init(self)
   if not torch.isTypeOf(criterion, 'nn.Criterion') then
      error('<nn.MaskZeroCriterion> expects an nn.Criterion at argument 1, got ' .. torch.type(criterion), 2)
   end
   if type(nInputDim) ~= 'number' then
      error('<nn.MaskZeroCriterion> expects nInputDim (a number) at argument 2', 2)
   end
   self.criterion = criterion
   self.nInputDim = nInputDim
end

function MaskZeroCriterion:recursiveGetFirst(input)
   if torch.type(input) == 'table' then
      return self:recursiveGetFirst(input[1])
   end
   return input
end

function MaskZeroCriterion:recursiveMask(dst, src, mask)
   if torch.type(src) == 'table' then
      dst = torch.type(dst) == 'table' and dst or {}
      for k, v in ipairs(src) do
         dst[k] = self:recursiveMask(dst[k], v, mask)
      end
      return dst
   end
   dst = (torch.isTensor(dst) and torch.type(dst) == torch.type(src)) and dst or nn.utils.newLike(src)
   dst:index(src, 1, mask)
   return dst
end

function MaskZeroCriterion:updateOutput(input, target)
   local rmi = self:recursiveGetFirst(input)
   if not torch.isTensor(rmi) then
      error('<nn.MaskZeroCriterion> input must be a tensor or a table of tensors', 2)
   end
   rmi = rmi:contiguous()
   if rmi:dim() == self.nInputDim then
      error('<nn.MaskZeroCriterion> does not support online (non-batch) input', 2)
   elseif rmi:dim() - 1 ~= self.nInputDim then
      error(string.format('<nn.MaskZeroCriterion> input has %d dimensions, nInputDim is %d (+1 for the batch)',
                          rmi:dim(), self.nInputDim), 2)
   end
   rmi = rmi:view(rmi:size(1), -1)
   local kept = {}
   for i = 1, rmi:size(1) do
      if rmi[i]:norm() ~= 0 then kept[#kept + 1] = i end
   end
   if #kept == 0 then
      -- every sample masked: the loss is 0 (and so is the gradient)
      self.zeroMask = torch.LongTensor()
      self.output = 0
      return self.output
   end
   self.zeroMask = torch.LongTensor(kept)
   self.input = self:recursiveMask(self.input, input, self.zeroMask)
   self.target = self:recursiveMask(self.target, target, self.zeroMask)
   self.output = self.criterion:updateOutput(self.input, self.target)
   return self.output
end

-- dst made like input (nested), zero but for the kept rows, which get src's rows
function MaskZeroCriterion:recursiveMaskGradInput(dst, mask, src, input)
   if torch.type(input) == 'table' then
      dst = torch.type(dst) == 'table' and dst or {}
      src = torch.type(src) == 'table' and src or {src}
      for k, v in pairs(input) do
         dst[k] = self:recursiveMaskGradInput(dst[k], mask, src[k], v)
      end
      for k = #input + 1, #dst do
         dst[k] = nil
      end
      return dst
   end
   if not torch.isTensor(input) then
      error('<nn.MaskZeroCriterion> expecting nested tensors or tables, got ' .. torch.type(input), 3)
   end
   dst = (torch.isTensor(dst) and torch.type(dst) == torch.type(input) and dst ~= input)
         and dst or nn.utils.newLike(input)
   dst:resizeAs(input):zero()
   if mask:nElement() > 0 then
      dst:indexCopy(1, mask, src)
   end
   return dst
end

-- the decorated criterion's gradient on the kept rows, 0 on the masked ones
function MaskZeroCriterion:updateGradInput(input, target)
   if not torch.isTensor(self.zeroMask) then
      error('<nn.MaskZeroCriterion> updateGradInput needs a forward first', 2)
   end
   local src
   if self.zeroMask:nElement() > 0 then
      src = self.criterion:updateGradInput(self.input, self.target)
   end
   self.gradInput = self:recursiveMaskGradInput(self.gradInput, self.zeroMask, src, input)
   return self.gradInput
end

return MaskZeroCriterion
