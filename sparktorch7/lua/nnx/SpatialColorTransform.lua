-- nn.SpatialColorTransform(transform): nnx's colour space conversions of a 3 x H x W
-- image, by name: rgb2yuv, yuv2rgb, rgb2y (linear: an nn.SpatialLinear holding nnx's
-- coefficients, in self.linear) and rgb2hsl, rgb2hsv, hsl2rgb, hsv2rgb, rgb2nrgb,
-- rgb2y+nrgb (through the image package, as nnx does). Backward: the linear transforms'
-- through self.linear (its coefficients are constants: accGradParameters leaves them, as
-- nnx, which lists no parameters); the others have none in nnx either and raise an error.
local schema = require('nn.schema')
local SpatialColorTransform, parent = torch.class('nn.SpatialColorTransform', 'nn.Module')

local LINEAR = {
   yuv2rgb = {{1, 0, 1.13983}, {1, -0.39465, -0.58060}, {1, 2.03211, 0}},
   rgb2yuv = {{0.299, 0.587, 0.114}, {-0.14713, -0.28886, 0.436}, {0.615, -0.51499, -0.10001}},
   rgb2y = {{0.299, 0.587, 0.114}},
}
local OTHER = {rgb2hsl = true, rgb2hsv = true, hsl2rgb = true, hsv2rgb = true, rgb2nrgb = true,
               ['rgb2y+nrgb'] = true}
local NAMES = 'yuv2rgb | rgb2yuv | rgb2y | hsl2rgb | hsv2rgb | rgb2hsl | rgb2hsv | rgb2nrgb | rgb2y+nrgb'

schema.declare(SpatialColorTransform, {
   {'transform', 'string', check = function(v)
      if not LINEAR[v] and not OTHER[v] then return 'one of ' .. NAMES end
   end},
   {'islinear', 'boolean?'},
   {'linear', 'module?'},
})

function SpatialColorTransform:__init(transform)
   parent.__init(self)
   if not LINEAR[transform] and not OTHER[transform] then
      error(string.format('<nn.SpatialColorTransform> transform must be one of %s, got %s', NAMES,
                          tostring(transform)), 2)
   end
   require('image')
   self.transform = transform
   self.islinear = LINEAR[transform] ~= nil
   if self.islinear then
      local rows = LINEAR[transform]
      self.linear = nn.SpatialLinear(3, #rows)
      self.linear.weight:copy(torch.Tensor(rows))
      self.linear.bias:zero()
   end
end

function SpatialColorTransform:updateOutput(input)
   if not torch.isTensor(input) or input:dim() ~= 3 or input:size(1) ~= 3 then
      error('<nn.SpatialColorTransform> input must be a 3 x H x W image, got '
            .. (torch.isTensor(input) and table.concat(input:size():totable(), 'x') or torch.type(input)), 2)
   end
   if self.islinear then
      self.output = self.linear:updateOutput(input)
      return self.output
   end
   require('image')
   if not torch.isTensor(self.output) or torch.type(self.output) ~= torch.type(input) or self.output == input then
      self.output = nn.utils.newLike(input)
   end
   if self.transform == 'rgb2y+nrgb' then
      self.output:resize(4, input:size(2), input:size(3))
      self.output:narrow(1, 1, 1):copy(image.rgb2y(input))
      self.output:narrow(1, 2, 3):copy(image.rgb2nrgb(input))
   else
      self.output:resizeAs(input):copy(image[self.transform](input))
   end
   return self.output
end

function SpatialColorTransform:updateGradInput(input, gradOutput)
   if not self.islinear then
      error(string.format('<nn.SpatialColorTransform> %s has no backward (nnx implements the gradient of the '
                          .. 'linear transforms rgb2yuv, yuv2rgb and rgb2y only)', self.transform), 2)
   end
   self.gradInput = self.linear:updateGradInput(input, gradOutput)
   return self.gradInput
end

function SpatialColorTransform:type(typename, tensorCache)
   parent.type(self, typename, tensorCache)
   if self.linear then self.linear:type(typename, tensorCache) end
   return self
end

return SpatialColorTransform
