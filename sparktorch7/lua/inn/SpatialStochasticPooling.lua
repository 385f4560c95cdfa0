-- inn.SpatialStochasticPooling(kW, kH [, dW, dH]): inn's stochastic pooling (Zeiler & Fergus,
-- after Caffe's kernels), for non-negative inputs (after a ReLU). Windows as inn's: output
-- size ceil((in - k) / d) + 1, windows clipped at the edge. Evaluation: each output is
-- sum(x^2) / (FLT_MIN + sum(x)) over its window. Training: one u ~ U(0, 1) per output
-- (torch's generator, in output order) picks the first pixel of the window, in row-major
-- order, where the running sum reaches u * sum(x); indices holds its 0-based offset in the
-- input (image, plane, row, column), as inn's CUDA kernel does.
local schema = require('nn.schema')
local kernels = require('nn.kernels')
local SpatialStochasticPooling, parent = torch.class('inn.SpatialStochasticPooling', 'nn.SpatialMaxPooling')

schema.inherited(SpatialStochasticPooling, "nn.SpatialMaxPooling's fields")

function SpatialStochasticPooling:__init(kW, kH, dW, dH)
   parent.__init(self, kW, kH, dW, dH)
   self.train = true
end

function SpatialStochasticPooling:updateOutput(input)
   if not torch.isTensor(input) or (input:dim() ~= 3 and input:dim() ~= 4) then
      error('<inn.SpatialStochasticPooling> input must be 3D or 4D (batch), got '
            .. (torch.isTensor(input) and (input:dim() .. 'D') or torch.type(input)), 2)
   end
   local batch = input:dim() == 4
   local x = batch and input or input:contiguous():view(1, input:size(1), input:size(2), input:size(3))
   local n, c, h, w = x:size(1), x:size(2), x:size(3), x:size(4)
   if h < self.kH or w < self.kW then
      error(string.format('<inn.SpatialStochasticPooling> input image (%dx%d) is smaller than the kernel (%dx%d)',
                          h, w, self.kH, self.kW), 2)
   end
   local oH = math.ceil((h - self.kH) / self.dH) + 1
   local oW = math.ceil((w - self.kW) / self.dW) + 1
   local out = kernels.output(self, input, {n, c, oH, oW})
   local u = kernels.output(self, input, {n, c, oH, oW}, 'indices')
   if self.train then u:uniform(0, 1) end
   kernels.stochastic_pool(out, u, x:contiguous(), self.kW, self.kH, self.dW, self.dH, self.train and true or false)
   if not batch then
      self.output = out:view(c, oH, oW)
   end
   return self.output
end

function SpatialStochasticPooling:__tostring__()
   return string.format('%s(%dx%d, %d,%d)', torch.type(self), self.kW, self.kH, self.dW, self.dH)
end

return SpatialStochasticPooling
