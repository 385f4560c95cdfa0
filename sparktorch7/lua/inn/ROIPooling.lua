-- inn.ROIPooling(W, H, spatial_scale): Fast R-CNN's region of interest max
-- pooling. Input {data (N x C x h x w), rois (R x 5: image index (1-based),
-- x1, y1, x2, y2, 1-based pixel coordinates)}; output R x C x H x W, each
-- region split into an H x W grid of bins whose maxima are taken (an empty
-- bin gives 0). v2 (files from 2016 on) rounds the bin edges; older files
-- floor the start and ceil the end of each bin, as inn's two CUDA kernels do.
local schema = require('nn.schema')
local kernels = require('nn.kernels')
local ROIPooling, parent = torch.class('inn.ROIPooling', 'nn.Module')

-- an H x W grid of bins per region (the output's last two sizes), regions scaled by spatial_scale
schema.declare(ROIPooling, {
   {'W', 'posint'}, {'H', 'posint'},
   {'spatial_scale', 'number?', check = 'spatial_scale > 0'},
   {'v2', 'boolean?'},
   {'indices', 'tensor?'},
   {'gradInput_rois', 'tensor?'}, {'gradInput_boxes', 'tensor?'},
})

function ROIPooling:__init(W, H, spatial_scale)
   parent.__init(self)
   if not (W and H) then
      error('<inn.ROIPooling> W and H have to be provided', 2)
   end
   self.W = W
   self.H = H
   self.spatial_scale = spatial_scale or 1
   self.gradInput = {}
   self.indices = torch.Tensor()
   self.v2 = true
end

function ROIPooling:setSpatialScale(scale)
   self.spatial_scale = scale
   return self
end

function ROIPooling:updateOutput(input)
   if type(input) ~= 'table' or #input ~= 2 then
      error('<inn.ROIPooling> input must be a table {data, rois}', 2)
   end
   local data, rois = input[1], input[2]
   if not torch.isTensor(data) or data:dim() ~= 4 then
      error('<inn.ROIPooling> data must be 4D (N x C x H x W), got '
            .. (torch.isTensor(data) and (data:dim() .. 'D') or torch.type(data)), 2)
   end
   if not torch.isTensor(rois) or rois:dim() ~= 2 or rois:size(2) ~= 5 then
      error('<inn.ROIPooling> rois must be R x 5 (image index, x1, y1, x2, y2), got '
            .. (torch.isTensor(rois) and table.concat(rois:size():totable(), 'x') or torch.type(rois)), 2)
   end
   local R = rois:size(1)
   for r = 1, R do
      local b = rois[r][1]
      if b < 1 or b > data:size(1) or b ~= math.floor(b) then
         error(string.format('<inn.ROIPooling> roi %d has image index %s, the batch has %d images', r,
                             tostring(b), data:size(1)), 2)
      end
   end
   kernels.output(self, data, {R, data:size(2), self.H, self.W})
   -- where each maximum was (row * width + column in its plane), for backward
   if torch.type(self.indices) ~= 'torch.LongTensor' then self.indices = torch.LongTensor() end
   self.indices:resize(R, data:size(2), self.H, self.W)
   if R > 0 then
      kernels.roi_pooling(self.output, data:contiguous(), rois:contiguous():double(), self.W, self.H,
                          self.spatial_scale, self.v2 and true or false, self.indices)
   end
   return self.output
end

-- Each bin's gradient goes to the pixel its maximum came from; the rois get a zero gradient.
function ROIPooling:updateGradInput(input, gradOutput)
   local data, rois = input[1], input[2]
   local R = rois:size(1)
   if not (torch.isTensor(self.indices) and self.indices:dim() == 4 and self.indices:size(1) == R) then
      error('<inn.ROIPooling> no forward for these rois: run forward first', 2)
   end
   if not (torch.isTensor(gradOutput) and gradOutput:isSameSizeAs(self.output)) then
      error(string.format('<inn.ROIPooling> gradOutput of size %s expected, got %s',
                          table.concat(self.output:size():totable(), 'x'),
                          torch.isTensor(gradOutput) and table.concat(gradOutput:size():totable(), 'x') or torch.type(gradOutput)), 2)
   end
   local gd = kernels.output(self, data, nil, 'gradInput_data')
   if R > 0 then
      kernels.roi_pooling_grad(gd, gradOutput:contiguous(), rois:contiguous():double(), self.indices)
   else
      gd:zero()
   end
   self.gradInput_rois = self.gradInput_rois or rois.new()
   self.gradInput_rois:resizeAs(rois):zero()
   self.gradInput = {gd, self.gradInput_rois}
   return self.gradInput
end

function ROIPooling:clearState()
   nn.utils.clear(self, 'gradInput_rois', 'gradInput_boxes', 'gradInput_data', 'indices')
   return parent.clearState(self)
end

return ROIPooling
