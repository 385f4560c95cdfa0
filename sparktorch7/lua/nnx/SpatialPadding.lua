-- nn.SpatialPadding(pad_l, pad_r, pad_t, pad_b, y_dim, x_dim, val): nnx's
-- padding of dimensions y_dim and x_dim (2 and 3 by default) with val; a
-- negative pad crops.
local schema = require('nn.schema')
local kernels = require('nn.kernels')
local SpatialPadding, parent = torch.class('nn.SpatialPadding', 'nn.Module')

-- a negative pad crops
schema.declare(SpatialPadding, {
   {'pad_l', 'int'}, {'pad_r', 'int'}, {'pad_t', 'int'}, {'pad_b', 'int'},
   {'y_dim', 'posint?'}, {'x_dim', 'posint?'},
   {'val', 'number?'},
})

function SpatialPadding:__init(pad_l, pad_r, pad_t, pad_b, y_dim, x_dim, val)
   parent.__init(self)
   if not pad_l then
      error('<nn.SpatialPadding> expects the left padding (then right, top, bottom, y_dim, x_dim, value)', 2)
   end
   self.pad_l = pad_l
   self.pad_r = pad_r or self.pad_l
   self.pad_t = pad_t or self.pad_l
   self.pad_b = pad_b or self.pad_l
   self.x_dim = x_dim or 3
   self.y_dim = y_dim or 2
   self.val = val or 0
end

-- The part of inner (input-shaped) that is copied and its place in outer (output-shaped):
-- negative pads crop the input, positive ones leave a border of the output.
local function regions(self, inner, outer, yd, xd)
   local ci, co = inner, outer
   if self.pad_t < 0 then ci = ci:narrow(yd, 1 - self.pad_t, ci:size(yd) + self.pad_t) end
   if self.pad_b < 0 then ci = ci:narrow(yd, 1, ci:size(yd) + self.pad_b) end
   if self.pad_l < 0 then ci = ci:narrow(xd, 1 - self.pad_l, ci:size(xd) + self.pad_l) end
   if self.pad_r < 0 then ci = ci:narrow(xd, 1, ci:size(xd) + self.pad_r) end
   if self.pad_t > 0 then co = co:narrow(yd, 1 + self.pad_t, co:size(yd) - self.pad_t) end
   if self.pad_b > 0 then co = co:narrow(yd, 1, co:size(yd) - self.pad_b) end
   if self.pad_l > 0 then co = co:narrow(xd, 1 + self.pad_l, co:size(xd) - self.pad_l) end
   if self.pad_r > 0 then co = co:narrow(xd, 1, co:size(xd) - self.pad_r) end
   return ci, co
end

function SpatialPadding:updateOutput(input)
   if not torch.isTensor(input) then
      error('<nn.SpatialPadding> input must be a tensor, got ' .. torch.type(input), 2)
   end
   local yd, xd = self.y_dim or 2, self.x_dim or 3
   if input:dim() < math.max(yd, xd) then
      error(string.format('<nn.SpatialPadding> input has %d dimensions, padding dimensions %d and %d',
                          input:dim(), yd, xd), 2)
   end
   if not torch.isTensor(self.output) or torch.type(self.output) ~= torch.type(input) or self.output == input then
      self.output = nn.utils.newLike(input)
   end
   local h = input:size(yd) + self.pad_t + self.pad_b
   local w = input:size(xd) + self.pad_l + self.pad_r
   if w < 1 or h < 1 then
      error(string.format('<nn.SpatialPadding> input (%d x %d) is too small for the pads', input:size(yd),
                          input:size(xd)), 2)
   end
   local dims = input:size()
   dims[yd] = h
   dims[xd] = w
   self.output:resize(dims):fill(self.val or 0)
   local ci, co = regions(self, input, self.output, yd, xd)
   co:copy(ci)
   return self.output
end

-- the gradient of the copied region; padding (and cropped-away input) gets zero
function SpatialPadding:updateGradInput(input, gradOutput)
   local yd, xd = self.y_dim or 2, self.x_dim or 3
   if not (torch.isTensor(gradOutput) and gradOutput:isSameSizeAs(self.output)) then
      error('<nn.SpatialPadding> gradOutput must have the size of the last output', 2)
   end
   local gi = kernels.output(self, input, nil, 'gradInput')
   gi:zero()
   local ci, co = regions(self, gi, gradOutput, yd, xd)
   ci:copy(co)
   return gi
end

return SpatialPadding
