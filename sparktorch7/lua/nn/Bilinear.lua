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
      error(string.format('<nn.Bilinear> size mismatch: inputs must be Bx%d and Bx%d', n1, n2), 2)
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

-- the two 2D inputs, checked against the weight and a rows x K gradOutput
local function checkBackward(self, input, gradOutput)
   if type(input) ~= 'table' or not torch.isTensor(input[1]) or not torch.isTensor(input[2]) then
      error('<nn.Bilinear> input must be a table of two tensors', 3)
   end
   local x1, x2 = input[1], input[2]
   local K = self.weight:size(1)
   if x1:dim() ~= 2 or x2:dim() ~= 2 or not torch.isTensor(gradOutput) or gradOutput:dim() ~= 2
         or gradOutput:size(1) ~= x1:size(1) or gradOutput:size(2) ~= K then
      error(string.format('<nn.Bilinear> gradOutput must be %d x %d (rows x outputSize): run forward on this input first',
                          x1:dim() == 2 and x1:size(1) or 0, K), 3)
   end
   return x1, x2
end

-- a zeroed buffer self[name] of type like t
local function buffer(self, name, t, rows, cols)
   if not torch.isTensor(self[name]) or torch.type(self[name]) ~= torch.type(t) then
      self[name] = nn.utils.newLike(t)
   end
   return self[name]:resize(rows, cols):zero()
end

-- dE/dx1[r] = sum_k g[r][k] W_k x2[r], dE/dx2[r] = sum_k g[r][k] W_k' x1[r]
function Bilinear:updateGradInput(input, gradOutput)
   local x1, x2 = checkBackward(self, input, gradOutput)
   local rows, K = x1:size(1), self.weight:size(1)
   local g1 = pointwise.zeroGradAt(self, 1, x1, gradOutput)
   local g2 = pointwise.zeroGradAt(self, 2, x2, gradOutput)
   for k = 1, K do
      local Wk = self.weight:select(1, k)
      local gk = gradOutput:narrow(2, k, 1)
      local b1 = buffer(self, 'buff1', x1, rows, x1:size(2))
      b1:addmm(0, b1, 1, x2, Wk:t())
      g1:addcmul(1, b1, gk:expandAs(b1))
      local b2 = buffer(self, 'buff2', x1, rows, x2:size(2))
      b2:addmm(0, b2, 1, x1, Wk)
      g2:addcmul(1, b2, gk:expandAs(b2))
   end
   return self.gradInput
end

-- dE/dW_k += scale (x1 .* g[:, k])' x2, dE/db += scale sum of g over the rows
function Bilinear:accGradParameters(input, gradOutput, scale)
   scale = scale or 1
   local x1, x2 = checkBackward(self, input, gradOutput)
   local rows = x1:size(1)
   for k = 1, self.weight:size(1) do
      local b1 = buffer(self, 'buff1', x1, rows, x1:size(2))
      b1:addcmul(1, x1, gradOutput:narrow(2, k, 1):expandAs(x1))
      self.gradWeight:select(1, k):addmm(scale, b1:t(), x2)
   end
   if self.bias then
      self.gradBias:add(scale, gradOutput:sum(1):view(self.gradBias:nElement()))
   end
end

-- shared or not, one step straight on the parameters (as Torch7)
function Bilinear:sharedAccUpdateGradParameters(input, gradOutput, lr)
   self:defaultAccUpdateGradParameters(input, gradOutput, lr)
end

return Bilinear
