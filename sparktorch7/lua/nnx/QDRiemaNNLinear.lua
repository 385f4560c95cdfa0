-- nnx.QDRiemaNNLinear(inputSize, outputSize [, gamma = 0.01, qdFlag = true]): nnx's nn.Linear
-- trained with the quasi-diagonal (or, qdFlag false, diagonal) Riemannian metric of
-- Ollivier's "Practical Riemannian Neural Networks". The forward and updateGradInput are
-- nn.Linear's; accGradParameters (batch input) accumulates Linear's gradients, then keeps
-- running averages (rate gamma, the first batch as it is) of the metric
-- Mii = g^2' x^2, M0i = g^2' x, M00 = g^2' 1 (g the gradOutput) and rescales the gradients:
-- gradWeight = (gradWeight M00 - M0i gradBias) / max(Mii M00 - M0i^2, 1e-12),
-- gradBias = (gradBias - sum_i M0i gradWeight) / (M00 + 1e-12); diagonal: divided by Mii, M00.
local schema = require('nn.schema')
local QDRiemaNNLinear, parent = torch.class('nnx.QDRiemaNNLinear', 'nn.Linear')

schema.declare(QDRiemaNNLinear, {
   {'gamma', 'number'}, {'qdFlag', 'boolean?'}, {'matReg', 'number?'}, {'initMetric', 'boolean?'},
   {'Mii', 'tensor', sizes = {{'outputSize', 'inputSize'}}},
   {'M0i', 'tensor?'}, {'M00', 'tensor', nElement = 'outputSize'},
   inputSize = 'weight:size(2)',
})

function QDRiemaNNLinear:__init(inputSize, outputSize, gamma, qdFlag)
   parent.__init(self, inputSize, outputSize)
   if qdFlag == nil then self.qdFlag = true else self.qdFlag = qdFlag end
   self.gamma = gamma or 0.01
   self.matReg = 1e-12
   self.initMetric = true
   self.Mii = torch.Tensor(outputSize, inputSize)
   if self.qdFlag then self.M0i = torch.Tensor(outputSize, inputSize) end
   self.M00 = torch.Tensor(outputSize)
end

-- as nnx: weights N(0, 1/sqrt(inputSize)), zero biases, the metric restarted
function QDRiemaNNLinear:reset()
   self.initMetric = true
   self.weight:normal(0, 1 / math.sqrt(self.weight:size(2)))
   self.bias:zero()
   return self
end

function QDRiemaNNLinear:accGradParameters(input, gradOutput, scale)
   if not torch.isTensor(input) or input:dim() ~= 2 then
      error('<nnx.QDRiemaNNLinear> accGradParameters takes a batch (2D input), got '
            .. (torch.isTensor(input) and (input:dim() .. 'D') or torch.type(input)), 2)
   end
   parent.accGradParameters(self, input, gradOutput, scale)
   local g2t = torch.pow(gradOutput, 2):t()
   local x2 = torch.pow(input, 2)
   local ones = nn.utils.newLike(input):resize(input:size(1)):fill(1)
   local reg = self.matReg or 1e-12
   if self.initMetric then
      self.Mii:resize(self.weight:size()):mm(g2t, x2)
      self.M00:resize(self.bias:size()):mv(g2t, ones)
      if self.qdFlag then
         self.M0i = self.M0i or nn.utils.newLike(self.weight)
         self.M0i:resize(self.weight:size()):mm(g2t, input)
      end
      self.initMetric = false
   else
      self.Mii:mul(1 - self.gamma):addmm(self.gamma, g2t, x2)
      if self.qdFlag then self.M0i:mul(1 - self.gamma):addmm(self.gamma, g2t, input) end
      self.M00:mul(1 - self.gamma):addmv(self.gamma, g2t, ones)
   end
   if self.qdFlag then
      local M00 = self.M00:view(-1, 1):expandAs(self.gradWeight)
      local num = torch.cmul(self.gradWeight, M00):add(-1, torch.cmul(self.M0i, self.gradBias:view(-1, 1):expandAs(self.M0i)))
      local den = torch.cmul(self.Mii, M00):add(-1, torch.pow(self.M0i, 2)):clamp(reg, 1e25)
      self.gradWeight:copy(num:cdiv(den))
      local t = torch.cmul(self.M0i, self.gradWeight):sum(2):view(-1)
      self.gradBias:add(-1, t):cdiv(torch.add(self.M00, reg))
   else
      -- nnx adds the regulariser to the metric itself
      self.gradWeight:cdiv(self.Mii:add(reg))
      self.gradBias:cdiv(self.M00:add(reg))
   end
end

return QDRiemaNNLinear
