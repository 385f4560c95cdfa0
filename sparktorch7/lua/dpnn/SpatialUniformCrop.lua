-- nn.SpatialUniformCrop(oheight, owidth, scale): crops oheight x owidth
-- patches from images (C x H x W, or a batch). In training each sample gets a
-- crop at a uniformly drawn place (with scale = {min, max}, of a drawn size
-- resampled to the output size by nn.SpatialReSampling); in evaluation the
-- centre crop.
local schema = require('nn.schema')
local kernels = require('nn.kernels')
local SpatialUniformCrop, parent = torch.class('nn.SpatialUniformCrop', 'nn.Module')

schema.declare(SpatialUniformCrop, {
   {'oheight', 'posint'}, {'owidth', 'posint'},
   {'scale', 'table?', check = function(s)
      if type(s[1]) ~= 'number' or type(s[2]) ~= 'number' or s[1] <= 0 or s[2] < s[1] then
         return 'a table {min, max} of scales (0 < min <= max)'
      end
   end},
   {'scaler', 'module?'},
   {'coord', 'tensor?'}, {'scales', 'tensor?'},
})

function SpatialUniformCrop:__init(oheight, owidth, scale)
   parent.__init(self)
   self.scale = scale or nil
   if self.scale ~= nil then
      if type(scale) ~= 'table' then
         error('<nn.SpatialUniformCrop> scale must be a table {min, max}, got ' .. torch.type(scale), 2)
      end
      require('nnx')
      self.scaler = nn.SpatialReSampling({owidth = owidth, oheight = oheight})
   end
   self.oheight = oheight
   self.owidth = owidth or oheight
end

local function checkInput(self, input)
   if not torch.isTensor(input) or (input:dim() ~= 3 and input:dim() ~= 4) then
      error('<nn.SpatialUniformCrop> input must be a 3D (C x H x W) or 4D (N x C x H x W) tensor, got '
            .. (torch.isTensor(input) and (input:dim() .. 'D') or torch.type(input)), 3)
   end
   local iH, iW = input:size(input:dim() - 1), input:size(input:dim())
   if iH < self.oheight or iW < self.owidth then
      error(string.format('<nn.SpatialUniformCrop> input is %d x %d, smaller than the %d x %d crop',
                          iH, iW, self.oheight, self.owidth), 3)
   end
end

function SpatialUniformCrop:updateOutput(input)
   checkInput(self, input)
   input = self:toBatch(input, 3)
   if not torch.isTensor(self.output) or torch.type(self.output) ~= torch.type(input) then
      self.output = nn.utils.newLike(input)
   end
   self.output:resize(input:size(1), input:size(2), self.oheight, self.owidth)
   self.coord = self.coord or torch.IntTensor()
   self.coord:resize(input:size(1), 2)
   local iH, iW = input:size(3), input:size(4)
   if self.train ~= false then
      if self.scale ~= nil then
         self.scales = self.scales or torch.FloatTensor()
         self.scales:resize(input:size(1))
         for i = 1, input:size(1) do
            local s = torch.uniform(self.scale.min or self.scale[1], self.scale.max or self.scale[2])
            local sh, sw = math.ceil(s * self.oheight), math.ceil(s * self.owidth)
            local h = math.ceil(torch.uniform(1e-2, iH - sh))
            local w = math.ceil(torch.uniform(1e-2, iW - sw))
            local ch = math.ceil(iH / 2 - (iH - sh) / 2 + h)
            local cw = math.ceil(iW / 2 - (iH - sw) / 2 + w)
            local h1 = math.max(1, ch - math.ceil(sh / 2))
            local w1 = math.max(1, cw - math.ceil(sw / 2))
            local crop = input[i]:narrow(2, h1, sh):narrow(3, w1, sw)
            self.output[i]:copy(self.scaler:forward(crop))
            self.scales[i] = s
            self.coord[{i, 1}] = h
            self.coord[{i, 2}] = w
         end
      else
         for i = 1, input:size(1) do
            local h1 = math.max(1, math.ceil(torch.uniform(1e-2, iH - self.oheight)))
            local w1 = math.max(1, math.ceil(torch.uniform(1e-2, iW - self.owidth)))
            self.output[i]:copy(input[i]:narrow(2, h1, self.oheight):narrow(3, w1, self.owidth))
            self.coord[{i, 1}] = h1
            self.coord[{i, 2}] = w1
         end
      end
   else
      -- Torch7 starts the centre crop at ceil((iH - oheight) / 2), which is 0
      -- (an error there) for a crop as big as the image: that case starts at 1
      local h1 = math.max(1, math.ceil((iH - self.oheight) / 2))
      local w1 = math.max(1, math.ceil((iW - self.owidth) / 2))
      self.output:copy(input:narrow(3, h1, self.oheight):narrow(4, w1, self.owidth))
   end
   self.output = self:fromBatch(self.output, 1)
   return self.output
end

-- the gradient of the crop taken in the last forward (the resampler's gradient for a
-- scaled crop), zero elsewhere
function SpatialUniformCrop:updateGradInput(input, gradOutput)
   checkInput(self, input)
   local batch = self:toBatch(input, 3)
   local gout = self:toBatch(gradOutput, 3)
   local gi = kernels.output(self, batch, nil, 'gradInput')
   gi:zero()
   local iH, iW = batch:size(3), batch:size(4)
   if self.train ~= false then
      if not (self.coord and self.coord:size(1) == batch:size(1)) then
         error('<nn.SpatialUniformCrop> no crop for this input: run forward first', 2)
      end
      for i = 1, batch:size(1) do
         if self.scale ~= nil then
            local s = self.scales[i]
            local sh, sw = math.ceil(s * self.oheight), math.ceil(s * self.owidth)
            local h, w = self.coord[{i, 1}], self.coord[{i, 2}]
            local ch = math.ceil(iH / 2 - (iH - sh) / 2 + h)
            local cw = math.ceil(iW / 2 - (iH - sw) / 2 + w)
            local h1 = math.max(1, ch - math.ceil(sh / 2))
            local w1 = math.max(1, cw - math.ceil(sw / 2))
            local crop = batch[i]:narrow(2, h1, sh):narrow(3, w1, sw)
            self.scaler:forward(crop)
            gi[i]:narrow(2, h1, sh):narrow(3, w1, sw):copy(self.scaler:updateGradInput(crop, gout[i]))
         else
            local h1, w1 = self.coord[{i, 1}], self.coord[{i, 2}]
            gi[i]:narrow(2, h1, self.oheight):narrow(3, w1, self.owidth):copy(gout[i])
         end
      end
   else
      local h1 = math.max(1, math.ceil((iH - self.oheight) / 2))
      local w1 = math.max(1, math.ceil((iW - self.owidth) / 2))
      gi:narrow(3, h1, self.oheight):narrow(4, w1, self.owidth):copy(gout)
   end
   self.gradInput = self:fromBatch(gi, 1)
   return self.gradInput
end

function SpatialUniformCrop:type(typename, cache)
   if typename then self.coord = nil end
   return parent.type(self, typename, cache)
end

return SpatialUniformCrop
