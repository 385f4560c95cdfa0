-- nn.WhiteNoise(mean, std): in training, adds Gaussian noise N(mean, std^2) to the input
-- (the noise drawn kept in self.noise); in evaluation, adds the mean only.
local schema = require('nn.schema')
local WhiteNoise, parent = torch.class('nn.WhiteNoise', 'nn.Module')

schema.declare(WhiteNoise, {
   {'mean', 'number'},
   {'std', 'number', min = 0},
   {'noise', 'tensor?'},
})

function WhiteNoise:__init(mean, std)
   parent.__init(self)
   self.mean = mean or 0
   self.std = std or 0.1
   if type(self.mean) ~= 'number' or type(self.std) ~= 'number' or self.std < 0 then
      error('<nn.WhiteNoise> usage: nn.WhiteNoise([mean[, std >= 0]])', 2)
   end
   self.noise = torch.Tensor()
end

local function sameType(self, field, like)
   if not torch.isTensor(self[field]) or torch.type(self[field]) ~= torch.type(like) or self[field] == like then
      self[field] = nn.utils.newLike(like)
   end
   return self[field]
end

function WhiteNoise:updateOutput(input)
   if not torch.isTensor(input) then
      error('<nn.WhiteNoise> input must be a tensor, got ' .. torch.type(input), 2)
   end
   local out = sameType(self, 'output', input):resizeAs(input):copy(input)
   if self.train ~= false then
      local noise = sameType(self, 'noise', input):resizeAs(input)
      if self.std > 0 then noise:normal(self.mean, self.std) else noise:fill(self.mean) end
      out:add(noise)
   elseif self.mean ~= 0 then
      out:add(self.mean)
   end
   return out
end

-- the noise is additive: dE/dx = dE/dy (Torch7 defines it in training only)
function WhiteNoise:updateGradInput(input, gradOutput)
   if self.train == false then
      error('<nn.WhiteNoise> backward is only defined in training (call :training())', 2)
   end
   if not torch.isTensor(gradOutput) or gradOutput:nElement() ~= input:nElement() then
      error(string.format('<nn.WhiteNoise> gradOutput must be a tensor of %d elements, got %s', input:nElement(),
                          torch.isTensor(gradOutput) and gradOutput:nElement() .. ' elements' or torch.type(gradOutput)), 2)
   end
   sameType(self, 'gradInput', gradOutput):resizeAs(gradOutput):copy(gradOutput)
   return self.gradInput
end

function WhiteNoise:clearState()
   self.noise = nn.utils.newLike(self.noise)
   return parent.clearState(self)
end

function WhiteNoise:__tostring__()
   return string.format('%s mean: %f, std: %f', torch.type(self), self.mean, self.std)
end

return WhiteNoise
