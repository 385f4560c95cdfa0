-- nn.Bilinear: y_k = x1' W_k x2 + b_k for a batch of row pairs {x1, x2}.
local pointwise = require('nn.pointwise')
local kernels = require('nn.kernels')
local schema = require('nn.schema')
local Bilinear, parent = torch.class('nn.Bilinear', 'nn.Module')

schema.declare(Bilinear, {
   {'weight', 'tensor', dim = 3},
   {'bias', 'tensor?', size = {'outputSize'}},
   {'gradWeight', 'tensor?'}, {'gradBias', 'tensor?'}, {'buff2', 'tensor?'},
   outputSize = 'weight:size(1)',
})

function Bilinear:__init(inputSize1, inputSize2, outputSize, bias)
   parent.__init(self)
   if not (inputSize1 and inputSize2 and outputSize) then
      error('<nn.Bilinear> usage: nn.Bilinear(inputSize1, inputSize2, outputSize[, bias])', 2)
   end
   if bias == nil then
      bias = true
   end
   self.weight = torch.Tensor(outputSize, inputSize1, inputSize2)
   self.gradWeight = torch.Tensor(outputSize, inputSize1, inputSize2)
   if bias then
      self.bias = torch.Tensor(outputSize)
      self.gradBias = torch.Tensor(outputSize)
   end
   self.gradInput = {torch.Tensor(), torch.Tensor()}
   self:reset()
end

function Bilinear:reset(stdv)
   if stdv then
      stdv = stdv * math.sqrt(3)
   else
      stdv = 1 / math.sqrt(self.weight:size(2))
   end
   self.weight:uniform(-stdv, stdv)
   if self.bias then
      self.bias:uniform(-stdv, stdv)
   end
   return self
end

function Bilinear:updateOutput(input)
   if type(input) ~= 'table' or #input ~= 2 then
      error('<nn.Bilinear> input must be a table of two tensors', 2)
   end
   local x1, x2 = input[1], input[2]
   if x1:dim() ~= 2 or x2:dim() ~= 2 then
      error('<nn.Bilinear> input tensors must be 2D (batches of rows)', 2)
   end
   local W = self.weight
   local K, n1, n2 = W:size(1), W:size(2), W:size(3)
   if x1:size(1) ~= x2:size(1) or x1:size(2) ~= n1 or x2:size(2) ~= n2 then
      error(string.format('<nn.Bilinear> inputs must be Bx%d and Bx%d', n1, n2), 2)
   end
   nn.utils.checkSameType('nn.Bilinear', x1, W)
   local rows = x1:size(1)
   local out = kernels.output(self, x1, torch.LongStorage({rows, K}))
   self.buff2 = (torch.isTensor(self.buff2) and torch.type(self.buff2) == torch.type(x1))
                and self.buff2 or nn.utils.newLike(x1)
   local buff = self.buff2
   local c2 = pointwise.contiguous(x2)
   local y = out:data()
   local bias = self.bias and pointwise.paramData(self.bias, K, 'nn.Bilinear', 'bias')
   for k = 1, K do
      buff:resize(rows, n2):zero()
      buff:addmm(0, buff, 1, x1, W:select(1, k))
      local b = pointwise.contiguous(buff):data()
      local v = c2:data()
      for r = 0, rows - 1 do
         local s = 0
         local base = r * n2
         for j = 0, n2 - 1 do
            s = s + b[base + j] * v[base + j]
         end
         if bias then s = s + bias[k - 1] end
         y[r * K + k - 1] = s
      end
   end
   return out
end

function Bilinear:clearState()
   nn.utils.clear(self, 'buff1', 'buff2')
   return parent.clearState(self)
end

function Bilinear:__tostring__()
   return torch.type(self) .. string.format('(%dx%d -> %d) %s', self.weight:size(2),
          self.weight:size(3), self.weight:size(1), (self.bias == nil and ' without bias' or ''))
end

return Bilinear
