-- nn.SpatialRegionDropout(p): in training zeroes a band of p of the rows or
-- columns at one edge of the image (chosen at random), scaling the rest by
-- 1 / (1 - p); the identity in evaluation.
local schema = require('nn.schema')
local kernels = require('nn.kernels')
local SpatialRegionDropout, parent = torch.class('nn.SpatialRegionDropout', 'nn.Module')

schema.declare(SpatialRegionDropout, {
   {'p', 'number', min = 0, check = 'p < 1'},
   {'noise', 'tensor?'},
   {'regionType', 'posint?', max = 4},
})

function SpatialRegionDropout:__init(p)
   parent.__init(self)
   self.p = p or 0.2
   self.train = true
   self.noise = torch.Tensor()
   if self.p >= 1 or self.p < 0 then
      error('<nn.SpatialRegionDropout> illegal percentage, must be 0 <= p < 1', 2)
   end
end

function SpatialRegionDropout:setp(p)
   self.p = p
end

function SpatialRegionDropout:updateOutput(input)
   if not torch.isTensor(input) or (input:dim() ~= 3 and input:dim() ~= 4) then
      error('<nn.SpatialRegionDropout> input must be 4D (nbatch, nfeat, h, w) or 3D (nfeat, h, w)', 2)
   end
   if not torch.isTensor(self.output) or torch.type(self.output) ~= torch.type(input) or self.output == input then
      self.output = nn.utils.newLike(input)
   end
   self.output:resizeAs(input):copy(input)
   if self.train then
      self.noise = nn.utils.newLike(input):resizeAs(input):fill(1)
      self.regionType = torch.random(4)
      local hd, wd = input:dim() - 1, input:dim()
      local height, width = input:size(hd), input:size(wd)
      local nh, nw = math.floor(height * self.p), math.floor(width * self.p)
      if self.regionType == 1 and nh > 0 then
         self.noise:narrow(hd, 1, nh):fill(0)
      elseif self.regionType == 2 and nh > 0 then
         self.noise:narrow(hd, height - nh + 1, nh):fill(0)
      elseif self.regionType == 3 and nw > 0 then
         self.noise:narrow(wd, 1, nw):fill(0)
      elseif self.regionType == 4 and nw > 0 then
         self.noise:narrow(wd, width - nw + 1, nw):fill(0)
      end
      self.noise:div(1 - self.p)
      self.output:cmul(self.noise)
   end
   return self.output
end

function SpatialRegionDropout:updateGradInput(input, gradOutput)
   if not self.train then
      error('<nn.SpatialRegionDropout> backward is only defined in training (the module is in evaluate mode)', 2)
   end
   if not (torch.isTensor(self.noise) and self.noise:isSameSizeAs(gradOutput)) then
      error('<nn.SpatialRegionDropout> no dropout mask for this gradOutput: run forward in training first', 2)
   end
   local gi = kernels.output(self, gradOutput, nil, 'gradInput')
   gi:copy(gradOutput):cmul(self.noise)
   return gi
end

function SpatialRegionDropout:__tostring__()
   return string.format('%s p: %f', torch.type(self), self.p)
end

return SpatialRegionDropout
