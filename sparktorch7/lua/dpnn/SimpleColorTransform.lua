-- nn.SimpleColorTransform(inputChannels, range): dpnn's colour augmentation. In training,
-- each channel c of each image gets one value drawn uniformly from [-range[c], range[c]]
-- added to all its pixels (drawn channel by channel, images in order within a channel, as
-- dpnn does); in evaluation the identity. Input C x H x W or B x C x H x W.
local schema = require('nn.schema')
local SimpleColorTransform, parent = torch.class('nn.SimpleColorTransform', 'nn.Module')

schema.declare(SimpleColorTransform, {
   {'inputChannels', 'posint'},
   {'range', 'tensor', nElement = 'inputChannels'},
})

function SimpleColorTransform:__init(inputChannels, range)
   parent.__init(self)
   if not torch.isTensor(range) or type(inputChannels) ~= 'number' or range:nElement() ~= inputChannels then
      error(string.format('<nn.SimpleColorTransform> expects (inputChannels, range) with a range tensor of '
                          .. 'inputChannels values, got (%s, %s)', tostring(inputChannels),
                          torch.isTensor(range) and (range:nElement() .. ' values') or torch.type(range)), 2)
   end
   self.train = true
   self.inputChannels = inputChannels
   self.range = range
end

-- the per-image, per-channel noise (batch x channels) drawn as dpnn draws it
local function noise(self, batch)
   local range = self.range:contiguous():view(-1)
   local n = torch.DoubleTensor(batch, self.inputChannels)
   for c = 1, self.inputChannels do
      local r = range[c]
      for b = 1, batch do n[b][c] = torch.uniform(-r, r) end
   end
   return n
end

function SimpleColorTransform:updateOutput(input)
   local name = torch.type(self)
   if not torch.isTensor(input) or (input:dim() ~= 3 and input:dim() ~= 4) then
      error(string.format('<%s> input must be 3D (C x H x W) or 4D (B x C x H x W), got %s', name,
                          torch.isTensor(input) and (input:dim() .. 'D') or torch.type(input)), 2)
   end
   local cdim = input:dim() - 2
   if input:size(cdim) ~= self.inputChannels then
      error(string.format('<%s> input has %d channels, the module %d', name, input:size(cdim),
                          self.inputChannels), 2)
   end
   require('nn.kernels').output(self, input):copy(input)
   if self.train then
      local batch = input:dim() == 4 and input:size(1) or 1
      self.noise = self:_noise(batch):typeAs(input)
      local shape = input:dim() == 4 and {batch, self.inputChannels, 1, 1} or {self.inputChannels, 1, 1}
      self.output:add(self.noise:view(unpack(shape)):expandAs(self.output))
   end
   return self.output
end

SimpleColorTransform._noise = noise

function SimpleColorTransform:updateGradInput(input, gradOutput)
   if not self.train then
      error(string.format('<%s> backprop is only defined while training', torch.type(self)), 2)
   end
   self.gradInput = nn.utils.newLike(gradOutput):resizeAs(gradOutput):copy(gradOutput)
   return self.gradInput
end

function SimpleColorTransform:__tostring__()
   return torch.type(self)
end

return SimpleColorTransform
