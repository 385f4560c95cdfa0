-- nn.SpatialFeatNormalization(mean, std): per channel (dimension 1 of an
-- image, 2 of a batch) y = (x - mean[c]) / std[c].
local schema = require('nn.schema')
local kernels = require('nn.kernels')
local SpatialFeatNormalization, parent = torch.class('nn.SpatialFeatNormalization', 'nn.Module')

-- one mean and one std per channel (forward indexes them per channel of the input)
schema.declare(SpatialFeatNormalization, {
   {'noOfFeats', 'posint'},
   {'mean', 'tensor', size = {'noOfFeats'}},
   {'std', 'tensor', size = {'noOfFeats'}},
})

function SpatialFeatNormalization:__init(mean, std)
   parent.__init(self)
   if not torch.isTensor(mean) or mean:dim() ~= 1 then
      error('<nn.SpatialFeatNormalization> mean (and std) must be 1D tensors', 2)
   end
   self.mean = torch.Tensor():resizeAs(mean):copy(mean)
   self.std = torch.Tensor():resizeAs(mean)
   if std ~= nil then self.std:copy(std) else self.std:fill(1) end
   self.noOfFeats = mean:size(1)
end

function SpatialFeatNormalization:updateOutput(input)
   if not torch.isTensor(input) or (input:dim() ~= 3 and input:dim() ~= 4) then
      error('<nn.SpatialFeatNormalization> input must be 3D or 4D', 2)
   end
   local cdim = input:dim() - 2
   if input:size(cdim) ~= self.noOfFeats then
      error(string.format('<nn.SpatialFeatNormalization> input has %d channels, the module %d',
                          input:size(cdim), self.noOfFeats), 2)
   end
   if not torch.isTensor(self.output) or torch.type(self.output) ~= torch.type(input) or self.output == input then
      self.output = nn.utils.newLike(input)
   end
   self.output:resizeAs(input):copy(input)
   for i = 1, self.noOfFeats do
      local plane = self.output:select(cdim, i)
      plane:add(-self.mean[i]):div(self.std[i])
   end
   return self.output
end

-- y = (x - mean_c) / std_c: the gradient is gradOutput / std_c per channel
function SpatialFeatNormalization:updateGradInput(input, gradOutput)
   if not torch.isTensor(gradOutput) or not gradOutput:isSameSizeAs(input) then
      error('<nn.SpatialFeatNormalization> gradOutput must have the input\'s size', 2)
   end
   local cdim = input:dim() - 2
   local gi = kernels.output(self, gradOutput, nil, 'gradInput')
   gi:copy(gradOutput)
   for i = 1, self.noOfFeats do
      gi:select(cdim, i):div(self.std[i])
   end
   return gi
end

return SpatialFeatNormalization
