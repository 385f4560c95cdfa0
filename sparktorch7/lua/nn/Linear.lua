-- nn.Linear: y = W x + b, for one vector (1D) or a batch of rows (2D).
local pointwise = require('nn.pointwise')
local schema = require('nn.schema')
local kernels = require('nn.kernels')
local Linear, parent = torch.class('nn.Linear', 'nn.Module')

schema.declare(Linear, {
   {'weight', 'tensor', dim = 2},
   {'bias', 'tensor?', size = {'outputSize'}},
   {'gradWeight', 'tensor?'}, {'gradBias', 'tensor?'}, {'addBuffer', 'tensor?'},
   outputSize = 'weight:size(1)',
})

function Linear:__init(inputSize, outputSize, bias)
   parent.__init(self)
   if bias == nil then
      bias = true
   end
   self.weight = torch.Tensor(outputSize, inputSize)
   self.gradWeight = torch.Tensor(outputSize, inputSize)
   if bias then
      self.bias = torch.Tensor(outputSize)
      self.gradBias = torch.Tensor(outputSize)
   end
   self:reset()
end

function Linear:noBias()
   self.bias = nil
   self.gradBias = nil
   return self
end

function Linear:reset(stdv)
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

-- adds the bias to every row of a contiguous (rows x n) output
local function addBiasRows(out, bias, rows, n)
   local y = out:data()
   local b = pointwise.paramData(bias, n, 'nn.Linear', 'bias')
   local i = 0
   for _ = 1, rows do
      for j = 0, n - 1 do
         y[i] = y[i] + b[j]
         i = i + 1
      end
   end
end

function Linear:updateOutput(input)
   local W = self.weight
   if not torch.isTensor(input) then
      error('<nn.Linear> input must be a tensor', 2)
   end
   nn.utils.checkSameType('nn.Linear', input, W)
   local nOut, nIn = W:size(1), W:size(2)
   local d = input:dim()
   if d ~= 1 and d ~= 2 then
      error(string.format('<nn.Linear> input must be 1D or 2D, not %dD', d), 2)
   end
   if input:size(d) ~= nIn then
      error(string.format('<nn.Linear> size mismatch: input has %d features, the module expects %d',
                          input:size(d), nIn), 2)
   end
   if self.bias then
      nn.utils.checkSameType('nn.Linear', input, self.bias)
      if self.bias:nElement() ~= nOut then   -- the kernels read nOut biases
         error(string.format('<nn.Linear> bias has %d elements, the module needs %d', self.bias:nElement(), nOut), 2)
      end
   end
   if input:nElement() == 0 then
      -- an empty batch gives an empty output
      return kernels.output(self, input, {0})
   end
   local rows = d == 2 and input:size(1) or 1
   local out = kernels.output(self, input, d == 1 and {nOut} or {rows, nOut})
   if kernels.faster('linear', input, rows * nIn * nOut) then
      kernels.linear(out, input, W, self.bias)
      return out
   end
   if d == 1 then
      if self.bias then out:copy(self.bias) else out:zero() end
      out:addmv(1, W, input)
   else
      out:addmm(0, out, 1, input, W:t())
      if self.bias then
         addBiasRows(out, self.bias, rows, nOut)
      end
   end
   return self.output
end

function Linear:clearState()
   if self.addBuffer then
      self.addBuffer = nn.utils.newLike(self.addBuffer)
   end
   return parent.clearState(self)
end

function Linear:__tostring__()
   return torch.type(self) .. string.format('(%d -> %d)', self.weight:size(2), self.weight:size(1))
          .. (self.bias == nil and ' without bias' or '')
end

-- dE/dx = dE/dy W, for one vector or a batch of rows.
function Linear:updateGradInput(input, gradOutput)
   if not torch.isTensor(gradOutput) then
      error('<nn.Linear> gradOutput must be a tensor', 2)
   end
   local W = self.weight
   if not torch.isTensor(self.gradInput) or torch.type(self.gradInput) ~= torch.type(input) then
      self.gradInput = nn.utils.newLike(input)
   end
   local nElement = self.gradInput:nElement()
   self.gradInput:resizeAs(input)
   if self.gradInput:nElement() ~= nElement then
      self.gradInput:zero()
   end
   if input:dim() == 1 then
      self.gradInput:addmv(0, 1, W:t(), gradOutput)
   elseif input:dim() == 2 then
      if gradOutput:dim() ~= 2 or gradOutput:size(1) ~= input:size(1) or gradOutput:size(2) ~= W:size(1) then
         error(string.format('<nn.Linear> gradOutput must be %d x %d', input:size(1), W:size(1)), 2)
      end
      self.gradInput:addmm(0, 1, gradOutput, W)
   else
      error('<nn.Linear> input must be 1D or 2D', 2)
   end
   return self.gradInput
end

-- dE/dW += scale dE/dy^T x, dE/db += scale (the sum over rows of) dE/dy.
function Linear:accGradParameters(input, gradOutput, scale)
   scale = scale or 1
   if input:dim() == 1 then
      self.gradWeight:addr(scale, gradOutput, input)
      if self.bias then self.gradBias:add(scale, gradOutput) end
   elseif input:dim() == 2 then
      self.gradWeight:addmm(scale, gradOutput:t(), input)
      if self.bias then
         self.gradBias:add(scale, gradOutput:sum(1):view(self.gradBias:nElement()))
      end
   end
end

return Linear
