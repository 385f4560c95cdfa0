-- nn.SpatialFovea{nInputPlane=, ratios=, processors= [, preProcessors=, fov = 1, sub = 1,
-- bilinear = false, cachePrePreproc]}: nnx's multi-scale fovea of a C x H x W image. For
-- each ratio r: the image averaged down by r (r x r blocks through nn.SpatialSubSampling;
-- nn.SpatialReSampling when bilinear), its preprocessor, zero padding of floor((fov - sub) /
-- 2) on each side, its processor, then (unfocused) up-sampled by r (pixel repetition;
-- bilinear resampling when bilinear); the scales' maps are concatenated into one volume.
-- fovea:focus(x, y [, fov]) narrows each padded scale to the fov x fov window at (x, y)
-- before its processor (no up-sampling); focus(nil) goes back. The beta input cache
-- (cachePrePreproc) is not kept, every forward computes its scales. Backward as nnx: each
-- scale's gradient back through its up-sampler, processor, window, padder, preprocessor and
-- down-sampler, summed; accGradParameters and parameters() are the processors' (nnx leaves
-- the preprocessors' parameters alone).
local schema = require('nn.schema')
local xlua = require('xlua')
local SpatialFovea, parent = torch.class('nn.SpatialFovea', 'nn.Module')

schema.declare(SpatialFovea, {
   {'nInputPlane', 'posint'}, {'ratios', 'table'}, {'processors', 'table'},
   {'preProcessors', 'table?'},
   {'fov', 'posint'}, {'sub', 'posint'},
   {'bilinear', 'boolean|number?'}, {'focused', 'boolean?'},
})

function SpatialFovea:__init(...)
   parent.__init(self)
   xlua.unpack_class(self, {...}, 'nn.SpatialFovea', 'multi-scale processing of an image',
      {arg = 'nInputPlane', type = 'number', help = 'number of input planes', req = true},
      {arg = 'ratios', type = 'table', help = 'list of downsampling ratios', req = true},
      {arg = 'processors', type = 'table', help = 'list of processors (each processor sees a single scale)', req = true},
      {arg = 'preProcessors', type = 'table', help = 'list of preprocessors (applied before padding)'},
      {arg = 'fov', type = 'number', help = "field of view (== processors' receptive field)", default = 1},
      {arg = 'sub', type = 'number', help = "global subsampling (== processors' subsampling ratio)", default = 1},
      {arg = 'bilinear', type = 'number', help = 'bilinear interpolation', default = false},
      {arg = 'cachePrePreproc', type = 'number', help = 'beta: cache preprocessed input', default = false})
   if #self.processors ~= #self.ratios then
      error(string.format('<nn.SpatialFovea> the number of processors (%d) must be the number of ratios (%d)',
                          #self.processors, #self.ratios), 2)
   end
   self.preProcessors = self.preProcessors or {}
   self.downsamplers, self.padders, self.upsamplers = {}, {}, {}
   self.padding = self.fov - self.sub
   self.modules = self.processors
end

function SpatialFovea:focus(x, y, fov)
   self.x, self.y = x, y
   self.fov = fov or self.fov
   self.focused = (self.x and self.y and self.fov) and true or false
end

-- the resamplers and padders of each scale, in the output's type (rebuilt per forward, as nnx)
function SpatialFovea:configure(typename)
   local pad = math.floor((self.fov - self.sub) / 2)
   for i, r in ipairs(self.ratios) do
      if self.bilinear then
         self.downsamplers[i] = nn.SpatialReSampling(1 / r, 1 / r)
         self.upsamplers[i] = nn.SpatialReSampling(r, r)
      else
         self.downsamplers[i] = nn.SpatialSubSampling(self.nInputPlane, r, r, r, r)
         self.downsamplers[i].weight:fill(1 / (r * r))
         self.downsamplers[i].bias:zero()
         self.upsamplers[i] = nn.SpatialUpSampling(r, r)
      end
      self.padders[i] = pad == 0 and nn.Identity() or nn.SpatialPadding(pad, pad, pad, pad)
      for _, m in ipairs({self.downsamplers[i], self.upsamplers[i], self.padders[i]}) do m:type(typename) end
   end
end

-- the focused window's top-left corner (column, row) in the padded map of ratio r
function SpatialFovea:window(r)
   local ox = math.floor(math.floor((self.x - 1) / r) / self.sub) * self.sub + 1
   local oy = math.floor(math.floor((self.y - 1) / r) / self.sub) * self.sub + 1
   return ox, oy
end

function SpatialFovea:updateOutput(input)
   if not torch.isTensor(input) or input:dim() ~= 3 then
      error('<nn.SpatialFovea> input must be 3D (C x H x W), got '
            .. (torch.isTensor(input) and (input:dim() .. 'D') or torch.type(input)), 2)
   end
   if input:size(1) ~= self.nInputPlane then
      error(string.format('<nn.SpatialFovea> input must have %d input planes, got %d', self.nInputPlane,
                          input:size(1)), 2)
   end
   self:configure(torch.type(input))
   -- each stage's output per scale, kept for the backward
   self.pyramid, self.preProcessed, self.padded, self.narrowed, self.processed = {}, {}, {}, {}, {}
   local maps = {}
   for i, r in ipairs(self.ratios) do
      self.pyramid[i] = self.downsamplers[i]:updateOutput(input)
      local x = self.pyramid[i]
      if self.preProcessors[i] then x = self.preProcessors[i]:updateOutput(x) end
      self.preProcessed[i] = x
      x = self.padders[i]:updateOutput(x)
      self.padded[i] = x
      if self.focused then
         local ox, oy = self:window(r)
         if ox + self.fov - 1 > x:size(3) or oy + self.fov - 1 > x:size(2) or ox < 1 or oy < 1 then
            error(string.format('<nn.SpatialFovea> the %dx%d window at (%d, %d) of scale %d is outside its %dx%d map',
                                self.fov, self.fov, ox, oy, i, x:size(2), x:size(3)), 2)
         end
         x = x:narrow(3, ox, self.fov):narrow(2, oy, self.fov)
      end
      self.narrowed[i] = x
      self.processed[i] = self.processors[i]:updateOutput(x)
      maps[i] = self.focused and self.processed[i] or self.upsamplers[i]:updateOutput(self.processed[i])
   end
   local planes = 0
   for _, m in ipairs(maps) do
      if m:size(2) ~= maps[1]:size(2) or m:size(3) ~= maps[1]:size(3) then
         error(string.format('<nn.SpatialFovea> the scales give maps of different sizes (%dx%d and %dx%d): '
                             .. 'the image sizes must be multiples of the ratios', maps[1]:size(2), maps[1]:size(3),
                             m:size(2), m:size(3)), 2)
      end
      planes = planes + m:size(1)
   end
   if not torch.isTensor(self.output) or torch.type(self.output) ~= torch.type(input) then
      self.output = nn.utils.newLike(input)
   end
   self.output:resize(planes, maps[1]:size(2), maps[1]:size(3))
   local at = 1
   for _, m in ipairs(maps) do
      self.output:narrow(1, at, m:size(1)):copy(m)
      at = at + m:size(1)
   end
   return self.output
end

function SpatialFovea:updateGradInput(input, gradOutput)
   if not self.processed or #self.processed ~= #self.ratios or not torch.isTensor(input) then
      error('<nn.SpatialFovea> updateGradInput needs the forward of this input first', 2)
   end
   if not torch.isTensor(gradOutput) or not gradOutput:isSameSizeAs(self.output) then
      error(string.format('<nn.SpatialFovea> gradOutput must be the output\'s size, %s, got %s',
                          table.concat(self.output:size():totable(), 'x'), torch.isTensor(gradOutput)
                          and table.concat(gradOutput:size():totable(), 'x') or torch.type(gradOutput)), 2)
   end
   self.gradProcessed = {}
   local gradInput = nn.utils.newLike(input):resizeAs(input):zero()
   local at = 1
   for i, r in ipairs(self.ratios) do
      local planes = self.processed[i]:size(1)
      local g = gradOutput:narrow(1, at, planes)
      at = at + planes
      if not self.focused then g = self.upsamplers[i]:updateGradInput(self.processed[i], g) end
      self.gradProcessed[i] = g
      g = self.processors[i]:updateGradInput(self.narrowed[i], g)
      if self.focused then
         local ox, oy = self:window(r)
         local padded = nn.utils.newLike(self.padded[i]):resizeAs(self.padded[i]):zero()
         padded:narrow(3, ox, self.fov):narrow(2, oy, self.fov):copy(g)
         g = padded
      end
      g = self.padders[i]:updateGradInput(self.preProcessed[i], g)
      if self.preProcessors[i] then g = self.preProcessors[i]:updateGradInput(self.pyramid[i], g) end
      gradInput:add(self.downsamplers[i]:updateGradInput(input, g))
   end
   self.gradInput = gradInput
   return gradInput
end

function SpatialFovea:accGradParameters(input, gradOutput, scale)
   if not self.gradProcessed then
      error('<nn.SpatialFovea> accGradParameters needs updateGradInput first', 2)
   end
   for i, p in ipairs(self.processors) do
      p:accGradParameters(self.narrowed[i], self.gradProcessed[i], scale)
   end
end

-- the processors' parameters, in order
function SpatialFovea:parameters()
   local w, gw = {}, {}
   for _, p in ipairs(self.processors) do
      local pw, pgw = p:parameters()
      for k = 1, pw and #pw or 0 do
         w[#w + 1], gw[#gw + 1] = pw[k], pgw[k]
      end
   end
   return w, gw
end

return SpatialFovea
