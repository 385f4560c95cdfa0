-- nn.SpatialGlimpse(size, depth, scale): the glimpse sensor of the recurrent
-- visual attention model. Input {images (N x C x H x W, or one image),
-- locations (N x 2, (y, x) in [-1, 1])}; output N x depth*C x height x width:
-- depth patches centred on each location (the image zero-padded), each scale
-- times larger than the previous and reduced to the first's size (average
-- pooling for scale 2, else nn.SpatialReSampling).
local schema = require('nn.schema')
local SpatialGlimpse, parent = torch.class('nn.SpatialGlimpse', 'nn.Module')

schema.declare(SpatialGlimpse, {
   {'width', 'posint'}, {'height', 'posint'},
   {'depth', 'posint'},
   {'scale', 'number', check = 'scale > 0'},
   {'modules', 'modules?', check = schema.decorated},
   {'module', 'module?'},
   {'dpnn_online', 'boolean?'},
   {'_crop', 'tensor|boolean?'}, {'_pad', 'tensor|boolean?'},
})

function SpatialGlimpse:__init(size, depth, scale)
   require('nnx')
   if type(size) == 'table' then
      self.height, self.width = size[1], size[2]
   else
      self.width, self.height = size, size
   end
   self.depth = depth or 3
   self.scale = scale or 2
   for _, k in ipairs({'width', 'height', 'depth', 'scale'}) do
      if type(self[k]) ~= 'number' then
         error('<nn.SpatialGlimpse> ' .. k .. ' must be a number, got ' .. torch.type(self[k]), 2)
      end
   end
   parent.__init(self)
   self.gradInput = {torch.Tensor(), torch.Tensor()}
   if self.scale == 2 then
      self.module = nn.SpatialAveragePooling(2, 2, 2, 2)
   else
      self.module = nn.SpatialReSampling({oheight = self.height, owidth = self.width})
   end
   self.modules = {self.module}
end

-- Where glimpse d of sample s lies: its size gh x gw (the first the module's height x width,
-- each next scale times the previous, truncated), the zero padding that lets it reach past
-- the image (padH, padW; the padded image pH x pW) and its corner (yy, xx, 0-based) in the
-- padded image, the location (-1..1 per axis) mapped onto the places it can take.
function SpatialGlimpse:_window(input, location, s, d)
   local gw, gh = math.floor(self.width), math.floor(self.height)
   for _ = 2, d do
      gw, gh = math.floor(gw * self.scale), math.floor(gh * self.scale)
   end
   local padW, padH = math.floor((gw - 1) / 2), math.floor((gh - 1) / 2)
   local pH, pW = input:size(3) + padH * 2, input:size(4) + padW * 2
   local y, x = (location[s][1] + 1) / 2, (location[s][2] + 1) / 2
   local h, w = pH - gh, pW - gw
   return {gw = gw, gh = gh, padW = padW, padH = padH, pH = pH, pW = pW,
           yy = math.floor(math.min(h, math.max(0, y * h))),
           xx = math.floor(math.min(w, math.max(0, x * w)))}
end

-- the glimpse cut from the zero-padded image (a view of self._pad)
function SpatialGlimpse:_patch(image, win)
   self._pad:resize(image:size(1), win.pH, win.pW):zero()
   self._pad:narrow(2, win.padH + 1, image:size(2)):narrow(3, win.padW + 1, image:size(3)):copy(image)
   return self._pad:narrow(2, win.yy + 1, win.gh):narrow(3, win.xx + 1, win.gw)
end

-- the glimpse copied into self._crop, what the downscaling module reads
function SpatialGlimpse:_cropOf(image, win)
   local patch = self:_patch(image, win)
   return self._crop:resize(image:size(1), win.gh, win.gw):copy(patch)
end

-- an nn.SpatialAveragePooling module gets the kernel that takes glimpse d to height x width
function SpatialGlimpse:_scaler(win, d, level)
   if torch.type(self.module) == 'nn.SpatialAveragePooling' then
      local pw, ph = win.gw / self.width, win.gh / self.height
      if pw % 2 ~= 0 or ph % 2 ~= 0 then
         error(string.format('<nn.SpatialGlimpse> glimpse %d (%d x %d) is not an even multiple of %d x %d',
                             d, win.gh, win.gw, self.height, self.width), level + 1)
      end
      self.module.kW, self.module.kH, self.module.dW, self.module.dH = pw, ph, pw, ph
   end
end

function SpatialGlimpse:updateOutput(inputTable)
   if type(inputTable) ~= 'table' or #inputTable < 2 then
      error('<nn.SpatialGlimpse> input must be a table {images, locations}', 2)
   end
   local input, location = inputTable[1], inputTable[2]
   if not torch.isTensor(input) or not torch.isTensor(location) then
      error('<nn.SpatialGlimpse> images and locations must be tensors', 2)
   end
   input = self:toBatch(input, 3)
   local online = self.dpnn_online
   location = self:toBatch(location, 1)
   if input:dim() ~= 4 or location:dim() ~= 2 or location:size(1) ~= input:size(1) or location:size(2) ~= 2 then
      error(string.format('<nn.SpatialGlimpse> expects images N x C x H x W and locations N x 2, got %s and %s',
                          table.concat(input:size():totable(), 'x'), table.concat(location:size():totable(), 'x')), 2)
   end
   if not torch.isTensor(self.output) or torch.type(self.output) ~= torch.type(input) then
      self.output = nn.utils.newLike(input)
   end
   self.output:resize(input:size(1), self.depth, input:size(2), self.height, self.width)
   self._crop = (torch.isTensor(self._crop) and torch.type(self._crop) == torch.type(input)) and self._crop
      or nn.utils.newLike(input)
   self._pad = (torch.isTensor(self._pad) and torch.type(self._pad) == torch.type(input)) and self._pad
      or nn.utils.newLike(input)
   if torch.type(self.module) ~= torch.type(input) then self.module:type(torch.type(input)) end
   for s = 1, input:size(1) do
      local outSample = self.output[s]
      for d = 1, self.depth do
         local win = self:_window(input, location, s, d)
         if d == 1 then
            outSample[d]:copy(self:_patch(input[s], win))
         else
            self:_scaler(win, d, 2)
            outSample[d]:copy(self.module:updateOutput(self:_cropOf(input[s], win)))
         end
      end
   end
   self.output:resize(input:size(1), self.depth * input:size(2), self.height, self.width)
   self.dpnn_online = online
   self.output = self:fromBatch(self.output, 1)
   return self.output
end

-- The gradient of each glimpse goes back to the place of the image it was cut from (the
-- downscaling module's gradient for the deeper ones, that module run again on the same crop
-- so pooling indices match); locations get a zero gradient, as in dpnn.
function SpatialGlimpse:updateGradInput(inputTable, gradOutput)
   local input, location = inputTable[1], inputTable[2]
   input = self:toBatch(input, 3)
   local online = self.dpnn_online
   location = self:toBatch(location, 1)
   gradOutput = self:toBatch(gradOutput, 3)
   if gradOutput:nElement() ~= input:size(1) * self.depth * input:size(2) * self.height * self.width then
      error(string.format('<nn.SpatialGlimpse> gradOutput of %d elements for %d glimpses of %d x %d x %d',
                          gradOutput:nElement(), input:size(1) * self.depth, input:size(2), self.height, self.width), 2)
   end
   local gi, gl = self.gradInput[1], self.gradInput[2]
   if not (torch.isTensor(gi) and torch.type(gi) == torch.type(input)) then gi = nn.utils.newLike(input) end
   if not (torch.isTensor(gl) and torch.type(gl) == torch.type(location)) then gl = nn.utils.newLike(location) end
   gi:resizeAs(input):zero()
   gl:resizeAs(location):zero()
   local go = gradOutput:contiguous():view(input:size(1), self.depth, input:size(2), self.height, self.width)
   local gpad = nn.utils.newLike(input)
   for s = 1, input:size(1) do
      for d = 1, self.depth do
         local win = self:_window(input, location, s, d)
         gpad:resize(input:size(2), win.pH, win.pW):zero()
         local place = gpad:narrow(2, win.yy + 1, win.gh):narrow(3, win.xx + 1, win.gw)
         if d == 1 then
            place:copy(go[s][d])
         else
            -- the module run again on the same crop, so that pooling indices match
            self:_scaler(win, d, 2)
            local crop = self:_cropOf(input[s], win)
            self.module:updateOutput(crop)
            place:copy(self.module:updateGradInput(crop, go[s][d]))
         end
         gi[s]:add(gpad:narrow(2, win.padH + 1, input:size(3)):narrow(3, win.padW + 1, input:size(4)))
      end
   end
   self.dpnn_online = online
   self.gradInput = {self:fromBatch(gi, 1), self:fromBatch(gl, 1)}
   return self.gradInput
end

function SpatialGlimpse:type(typename, cache)
   if typename then self._crop, self._pad = nil, nil end
   return parent.type(self, typename, cache)
end

return SpatialGlimpse
