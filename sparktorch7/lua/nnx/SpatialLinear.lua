-- nn.SpatialLinear(fanin, fanout): nnx's 1x1 linear map of the feature planes of a
-- fanin x H x W image, out[o] = bias[o] + sum_i weight[o][i] * in[i] (fanout x H x W).
-- A batch B x fanin x H x W maps image by image (nnx takes single images only).
-- Backward as nnx's C code: updateGradInput gives W' dE/dy per pixel and, as nnx does there,
-- also accumulates gradWeight += dE/dy x' and gradBias += dE/dy over the pixels (plus weight
-- per pixel when weightDecay ~= 0); accGradParameters then adds nothing.
local schema = require('nn.schema')
local kernels = require('nn.kernels')
local SpatialLinear, parent = torch.class('nn.SpatialLinear', 'nn.Module')

schema.declare(SpatialLinear, {
   {'fanin', 'posint'}, {'fanout', 'posint'},
   {'weight', 'tensor', size = {'fanout', 'fanin'}},
   {'bias', 'tensor', nElement = 'fanout'},
   {'weightDecay', 'number?'},
})

function SpatialLinear:__init(fanin, fanout)
   parent.__init(self)
   self.fanin = fanin or 1
   self.fanout = fanout or 1
   self.weightDecay = 0
   self.weight = torch.Tensor(self.fanout, self.fanin)
   self.bias = torch.Tensor(self.fanout)
   self.gradWeight = torch.Tensor(self.fanout, self.fanin)
   self.gradBias = torch.Tensor(self.fanout)
   self:reset()
end

-- nnx draws row by row: the weights of output o, then its bias
function SpatialLinear:reset(stdv)
   stdv = stdv and stdv * math.sqrt(3) or 1 / math.sqrt(self.weight:size(1))
   for o = 1, self.weight:size(1) do
      self.weight:select(1, o):apply(function() return torch.uniform(-stdv, stdv) end)
      self.bias[o] = torch.uniform(-stdv, stdv)
   end
end

function SpatialLinear:updateOutput(input)
   if not torch.isTensor(input) or (input:dim() ~= 3 and input:dim() ~= 4) then
      error('<nn.SpatialLinear> input must be 3D (fanin x H x W) or 4D (batch), got '
            .. (torch.isTensor(input) and (input:dim() .. 'D') or torch.type(input)), 2)
   end
   local cdim = input:dim() - 2
   if input:size(cdim) ~= self.fanin then
      error(string.format('<nn.SpatialLinear> input has %d planes, fanin is %d', input:size(cdim), self.fanin), 2)
   end
   nn.utils.checkSameType('nn.SpatialLinear', input, self.weight)
   local h, w = input:size(cdim + 1), input:size(cdim + 2)
   local b = cdim == 2 and input:size(1) or 1
   local out = kernels.output(self, input, cdim == 2 and {b, self.fanout, h, w} or {self.fanout, h, w})
   local x = input:contiguous():view(b, self.fanin, h * w)
   local y = out:view(b, self.fanout, h * w)
   for i = 1, b do
      y[i]:copy(self.bias:view(self.fanout, 1):expand(self.fanout, h * w))
      y[i]:addmm(self.weight, x[i])
   end
   return out
end

function SpatialLinear:updateGradInput(input, gradOutput)
   local cdim = input:dim() - 2
   local h, w = input:size(cdim + 1), input:size(cdim + 2)
   local b = cdim == 2 and input:size(1) or 1
   if not torch.isTensor(gradOutput) or gradOutput:nElement() ~= b * self.fanout * h * w then
      error(string.format('<nn.SpatialLinear> gradOutput must have %d x %d x %d elements per image, got %s',
                          self.fanout, h, w, torch.isTensor(gradOutput) and table.concat(gradOutput:size():totable(), 'x')
                          or torch.type(gradOutput)), 2)
   end
   local gin = require('nn.kernels').output(self, input, nil, 'gradInput')
   local x = input:contiguous():view(b, self.fanin, h * w)
   local g = gradOutput:contiguous():view(b, self.fanout, h * w)
   local gi = gin:view(b, self.fanin, h * w)
   for i = 1, b do
      gi[i]:mm(self.weight:t(), g[i])
      self.gradWeight:addmm(g[i], x[i]:t())
      self.gradBias:add(g[i]:sum(2):view(self.fanout))
      if (self.weightDecay or 0) ~= 0 then self.gradWeight:add(h * w, self.weight) end
   end
   return gin
end

function SpatialLinear:accGradParameters(input, gradOutput, scale)
end

return SpatialLinear
