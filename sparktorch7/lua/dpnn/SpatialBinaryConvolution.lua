-- nn.SpatialBinaryConvolution(nInputPlane, nOutputPlane, kW, kH [, dW, dH, padW, padH]):
-- dpnn's XNOR-style convolution (arXiv 1603.05279), a bias-free nn.SpatialConvolution whose
-- forward convolves with sign(weight) (0 counts as +1) and scales output plane o by
-- alpha[o] = |weight[o]|_1 / (nInputPlane * kW * kH). As in dpnn, a forward in training mode
-- leaves self.weight binarized (the real weights wait in tempWeight until
-- accGradParameters copies them back); in evaluation the weights are restored at once.
-- updateGradInput scales the convolution's gradInput per input plane by
-- |weight[:, i]|_1 / (nOutputPlane * kW * kH).
local schema = require('nn.schema')
local SpatialBinaryConvolution, parent = torch.class('nn.SpatialBinaryConvolution', 'nn.SpatialConvolution')

schema.inherited(SpatialBinaryConvolution, "nn.SpatialConvolution's fields (its bias is nil)")

function SpatialBinaryConvolution:__init(nInputPlane, nOutputPlane, kW, kH, dW, dH, padW, padH)
   parent.__init(self, nInputPlane, nOutputPlane, kW, kH, dW, dH, padW, padH)
   parent.noBias(self)
   self.iwh = self.nInputPlane * self.kW * self.kH
   self.owh = self.nOutputPlane * self.kW * self.kH
   self.train = true
end

-- alphas (per output plane) and gradInputAlphas (per input plane) from the real weights,
-- kept in tempWeight; self.weight becomes sign(weight) with sign(0) = +1.
function SpatialBinaryConvolution:binarizeWeight()
   local w = self.weight
   if not torch.isTensor(self.tempWeight) or torch.type(self.tempWeight) ~= torch.type(w) then
      self.tempWeight = nn.utils.newLike(w)
   end
   self.tempWeight:resizeAs(w):copy(w)
   local absw = torch.abs(self.tempWeight)
   self.alphas = absw:view(self.nOutputPlane, -1):sum(2):view(self.nOutputPlane):div(self.iwh or self.nInputPlane * self.kW * self.kH)
   self.gradInputAlphas = absw:transpose(1, 2):contiguous():view(self.nInputPlane, -1):sum(2)
      :view(self.nInputPlane):div(self.owh or self.nOutputPlane * self.kW * self.kH)
   w:copy(torch.ge(self.tempWeight, 0):typeAs(w):mul(2):add(-1))
end

function SpatialBinaryConvolution:updateOutput(input)
   self:binarizeWeight()
   local ok, err = pcall(parent.updateOutput, self, input)
   if not ok then
      self.weight:copy(self.tempWeight)
      error(err, 0)
   end
   local dim = self.output:dim()
   local shape = dim == 4 and {1, self.nOutputPlane, 1, 1} or {self.nOutputPlane, 1, 1}
   self.output:cmul(self.alphas:view(unpack(shape)):expandAs(self.output))
   if not self.train then self.weight:copy(self.tempWeight) end
   return self.output
end

function SpatialBinaryConvolution:updateGradInput(input, gradOutput)
   if not self.gradInputAlphas then
      error('<nn.SpatialBinaryConvolution> updateGradInput needs a forward first', 2)
   end
   parent.updateGradInput(self, input, gradOutput)
   local shape = self.gradInput:dim() == 4 and {1, self.nInputPlane, 1, 1} or {self.nInputPlane, 1, 1}
   self.gradInput:cmul(self.gradInputAlphas:view(unpack(shape)):expandAs(self.gradInput))
   return self.gradInput
end

function SpatialBinaryConvolution:accGradParameters(input, gradOutput, scale)
   parent.accGradParameters(self, input, gradOutput, scale)
   if self.tempWeight then self.weight:copy(self.tempWeight) end
end

function SpatialBinaryConvolution:type(typename, tensorCache)
   self.tempWeight, self.alphas, self.gradInputAlphas, self.wmask = nil, nil, nil, nil
   return parent.type(self, typename, tensorCache)
end

function SpatialBinaryConvolution:__tostring__()
   return 'Binary Convolution: ' .. parent.__tostring__(self)
end

return SpatialBinaryConvolution
