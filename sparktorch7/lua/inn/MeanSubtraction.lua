-- inn.MeanSubtraction(mean): y = x - mean, mean a C x H x W image (or 1 x C x
-- H x W) broadcast over a batch.
local schema = require('nn.schema')
local kernels = require('nn.kernels')
local MeanSubtraction, parent = torch.class('inn.MeanSubtraction', 'nn.Module')

schema.declare(MeanSubtraction, {
   {'mean', 'tensor'},
})

function MeanSubtraction:__init(mean)
   parent.__init(self)
   if not torch.isTensor(mean) then
      error('<inn.MeanSubtraction> expects the mean image (a tensor), got ' .. torch.type(mean), 2)
   end
   self.mean = mean
   self.output = torch.Tensor()
end

function MeanSubtraction:updateOutput(input)
   if not torch.isTensor(input) or (input:dim() ~= 3 and input:dim() ~= 4) then
      error('<inn.MeanSubtraction> input must be a 3D or 4D tensor, got '
            .. (torch.isTensor(input) and (input:dim() .. 'D') or torch.type(input)), 2)
   end
   local mean = self.mean
   if mean:dim() == 4 then mean = mean:select(1, 1) end
   local per = input:dim() == 4 and input[1] or input
   if mean:nElement() ~= per:nElement() then
      error(string.format('<inn.MeanSubtraction> the mean has %d elements, one input image %d (%s)',
                          mean:nElement(), per:nElement(), table.concat(per:size():totable(), 'x')), 2)
   end
   mean = mean:contiguous():view(per:size())
   if input:dim() == 4 then
      mean = mean:view(1, per:size(1), per:size(2), per:size(3)):expandAs(input)
   end
   if not torch.isTensor(self.output) or torch.type(self.output) ~= torch.type(input) then
      self.output = nn.utils.newLike(input)
   end
   self.output:resizeAs(input):copy(input):add(-1, mean:typeAs(input))
   return self.output
end

function MeanSubtraction:updateGradInput(input, gradOutput)
   local gi = kernels.output(self, gradOutput, nil, 'gradInput')
   gi:copy(gradOutput)
   return gi
end

return MeanSubtraction
