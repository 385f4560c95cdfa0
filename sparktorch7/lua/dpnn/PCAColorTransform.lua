-- nn.PCAColorTransform(inputChannels, eigenVectors, eigenValues [, std = 0.1]): dpnn's
-- AlexNet-style colour augmentation. In training, for each image a ~ N(0, std) per channel
-- (a channels x batch matrix, drawn row by row), and every pixel of the image gets
-- eigenVectors * (a .* eigenValues) added; in evaluation the identity.
local schema = require('nn.schema')
local PCAColorTransform, parent = torch.class('nn.PCAColorTransform', 'nn.Module')

schema.declare(PCAColorTransform, {
   {'inputChannels', 'posint'},
   {'eigenVectors', 'tensor', size = {'inputChannels', 'inputChannels'}},
   {'eigenValues', 'tensor', nElement = 'inputChannels'},
   {'std', 'number'},
})

function PCAColorTransform:__init(inputChannels, eigenVectors, eigenValues, std)
   parent.__init(self)
   if type(inputChannels) ~= 'number' or not torch.isTensor(eigenVectors) or eigenVectors:dim() ~= 2
      or eigenVectors:size(1) ~= inputChannels or eigenVectors:size(2) ~= inputChannels
      or not torch.isTensor(eigenValues) or eigenValues:nElement() ~= inputChannels then
      error(string.format('<nn.PCAColorTransform> expects (inputChannels, eigenVectors, eigenValues [, std]) '
                          .. 'with eigenVectors %s x %s and %s eigenValues, got (%s, %s, %s)',
                          tostring(inputChannels), tostring(inputChannels), tostring(inputChannels),
                          tostring(inputChannels), schema.holds(eigenVectors), schema.holds(eigenValues)), 2)
   end
   self.train = true
   self.inputChannels = inputChannels
   self.eigenVectors = eigenVectors
   self.eigenValues = eigenValues
   self.std = std or 0.1
end

-- batch x channels: row b is eigenVectors * (alphas[:, b] .* eigenValues)
function PCAColorTransform:_noise(batch)
   local alphas = torch.DoubleTensor(self.inputChannels, batch):normal(0, self.std)
   alphas:cmul(self.eigenValues:double():contiguous():view(self.inputChannels, 1):expandAs(alphas))
   return (self.eigenVectors:double() * alphas):t():contiguous()
end

-- the forward and backward of nn.SimpleColorTransform, with this noise
PCAColorTransform.updateOutput = nn.SimpleColorTransform.updateOutput
PCAColorTransform.updateGradInput = nn.SimpleColorTransform.updateGradInput

function PCAColorTransform:__tostring__()
   return string.format('%s channels: %d, std: %f', torch.type(self), self.inputChannels, self.std)
end

return PCAColorTransform
