-- nn.BatchNormalization: y = (x - mean) / sqrt(var + eps) * weight + bias per
-- feature (dimension 2 of a batch, dimension 1 of a single sample). In
-- evaluation mean and var are running_mean and running_var; in training the
-- batch statistics are used (and the running ones updated, as Torch7 does).
-- Inputs of more dimensions (N x C x ...) are normalised per channel, which
-- the spatial and volumetric subclasses use.
local pointwise = require('nn.pointwise')
local ops = require('nn.spatial_ops')
local kernels = require('nn.kernels')
local schema = require('nn.schema')
local BN, parent = torch.class('nn.BatchNormalization', 'nn.Module')

schema.declare(BN, {
   {'eps', 'number', min = 0},
   {'momentum', 'number?'},
   {'affine', 'boolean?'},
   {'running_mean', 'tensor', dim = 1, check = function(_, m)
      if rawget(m, 'running_var') == nil and rawget(m, 'running_std') == nil then
         return 'a running_var tensor beside it (or, in version 1 files, a running_std)',
                'neither running_var nor running_std'
      end
   end},
   {'running_var', 'tensor?', nElement = 'nOutput'},
   {'running_std', 'tensor?', nElement = 'nOutput'},
   {'weight', 'tensor?', nElement = 'nOutput'},
   {'bias', 'tensor?', nElement = 'nOutput'},
   {'gradWeight', 'tensor?'}, {'gradBias', 'tensor?'},
   {'save_mean', 'tensor?'}, {'save_std', 'tensor?'},
   nOutput = 'running_mean:nElement()',
})

BN.__version = 2
BN.nDim = 2

function BN:__init(nOutput, eps, momentum, affine)
   parent.__init(self)
   if type(nOutput) ~= 'number' or nOutput <= 0 then
      error('<nn.BatchNormalization> usage: nn.BatchNormalization(nFeatures[, eps, momentum, affine])', 2)
   end
   if affine ~= nil then
      self.affine = affine
   else
      self.affine = true
   end
   self.eps = eps or 1e-5
   self.train = true
   self.momentum = momentum or 0.1
   self.running_mean = torch.zeros(nOutput)
   self.running_var = torch.ones(nOutput)
   if self.affine then
      self.weight = torch.Tensor(nOutput)
      self.bias = torch.Tensor(nOutput)
      self.gradWeight = torch.Tensor(nOutput)
      self.gradBias = torch.Tensor(nOutput)
      self:reset()
   end
end

function BN:reset()
   if self.weight then
      self.weight:uniform()
   end
   if self.bias then
      self.bias:zero()
   end
   self.running_mean:zero()
   self.running_var:fill(1)
   return self
end

-- Version 1 files kept running_std = 1 / sqrt(var + eps).
function BN:backCompatibility(version)
   parent.backCompatibility(self, version)
   if self.running_std and not self.running_var then
      local std = self.running_std
      local var = nn.utils.newLike(std):resizeAs(std)
      local s, v = pointwise.contiguous(std):data(), var:data()
      for i = 0, std:nElement() - 1 do
         v[i] = 1 / (s[i] * s[i]) - self.eps
      end
      self.running_var = var
      self.running_std = nil
   end
end

-- (batch, channels, inner) of the input, checked against the module
function BN:_layout(input)
   local d = input:dim()
   local nDim = self.nDim or 2
   local nFeature = self.running_mean:nElement()
   local batch, c, inner
   if d == nDim then
      batch, c = input:size(1), input:size(2)
   elseif d == nDim - 1 then
      batch, c = 1, input:size(1)
   else
      error(string.format('<%s> input must be %dD (a batch) or %dD, not %dD',
                          torch.type(self), nDim, nDim - 1, d), 3)
   end
   if c ~= nFeature then
      error(string.format('<%s> size mismatch: got %d-feature tensor, expected %d', torch.type(self), c, nFeature), 3)
   end
   inner = input:nElement() / (batch * c)
   return batch, c, inner
end

function BN:updateOutput(input)
   if not torch.isTensor(input) then
      error(string.format('<%s> input must be a tensor', torch.type(self)), 2)
   end
   self:backCompatibility()
   if input:nElement() == 0 then
      return kernels.output(self, input)
   end
   local batch, C, inner = self:_layout(input)
   local x = pointwise.contiguous(input)
   local out = kernels.output(self, input)
   local xp, yp = x:data(), out:data()
   local eps = self.eps
   local mean, var = {}, {}
   if self.train then
      -- batch statistics (biased variance to normalise, unbiased for the running average)
      local m = batch * inner
      for c = 0, C - 1 do
         local s = 0
         for b = 0, batch - 1 do
            local base = (b * C + c) * inner
            for k = 0, inner - 1 do s = s + xp[base + k] end
         end
         local mu = s / m
         local ss = 0
         for b = 0, batch - 1 do
            local base = (b * C + c) * inner
            for k = 0, inner - 1 do
               local dv = xp[base + k] - mu
               ss = ss + dv * dv
            end
         end
         mean[c], var[c] = mu, ss / m
      end
      local rm = pointwise.contiguous(self.running_mean)
      local rv = pointwise.contiguous(self.running_var)
      local rmp = pointwise.paramData(rm, C, torch.type(self), 'running_mean')
      local rvp = pointwise.paramData(rv, C, torch.type(self), 'running_var')
      local mom = self.momentum
      for c = 0, C - 1 do
         rmp[c] = mom * mean[c] + (1 - mom) * rmp[c]
         local unbiased = m > 1 and var[c] * m / (m - 1) or var[c]
         rvp[c] = mom * unbiased + (1 - mom) * rvp[c]
      end
      if rm ~= self.running_mean then self.running_mean:copy(rm) end
      if rv ~= self.running_var then self.running_var:copy(rv) end
      -- the batch statistics, kept for the backward pass (Torch7's save_mean/save_std)
      self.save_mean = kernels.output(self, input, {C}, 'save_mean')
      self.save_std = kernels.output(self, input, {C}, 'save_std')
      local smp, ssp = self.save_mean:data(), self.save_std:data()
      for c = 0, C - 1 do
         smp[c] = mean[c]
         ssp[c] = 1 / math.sqrt(var[c] + eps)
      end
   else
      local rmp = pointwise.paramData(self.running_mean, C, torch.type(self), 'running_mean')
      local rvp = pointwise.paramData(self.running_var, C, torch.type(self), 'running_var')
      for c = 0, C - 1 do
         mean[c], var[c] = rmp[c], rvp[c]
      end
   end
   local wp = self.weight and pointwise.paramData(self.weight, C, torch.type(self), 'weight')
   local bp = self.bias and pointwise.paramData(self.bias, C, torch.type(self), 'bias')
   for c = 0, C - 1 do
      local invstd = 1 / math.sqrt(var[c] + eps)
      local scale = wp and wp[c] * invstd or invstd
      local shift = (bp and bp[c] or 0) - mean[c] * scale
      for b = 0, batch - 1 do
         local base = (b * C + c) * inner
         for k = base, base + inner - 1 do
            yp[k] = xp[k] * scale + shift
         end
      end
   end
   return out
end

-- The backward of either forward (this one or SpatialBatchNormalization's): in
-- training through the saved batch statistics, in evaluation through the running ones.
function BN:_backward(input, gradOutput, gin, gw, gb, scale)
   ops.checkGradOutput(self, input, gradOutput)
   local train = self.train == true
   if train and not (torch.isTensor(self.save_mean) and torch.isTensor(self.save_std)
                     and self.save_mean:nElement() == self.running_mean:nElement()) then
      ops.fail(self, 'no batch statistics saved: run forward in training mode before backward')
   end
   kernels.batchnorm_grad(gin, gw, gb, input, gradOutput, input:dim() == (self.nDim or 2) - 1,
                          self.weight, self.running_mean, self.running_var, train and self.save_mean or nil,
                          train and self.save_std or nil, train, scale or 1, self.eps or 1e-5)
end

function BN:updateGradInput(input, gradOutput)
   local gin = kernels.output(self, input, nil, 'gradInput')
   self:_backward(input, gradOutput, gin, nil, nil, 1)
   return gin
end

function BN:accGradParameters(input, gradOutput, scale)
   local gw = ops.gradParam(self, 'gradWeight', self.weight)
   local gb = ops.gradParam(self, 'gradBias', self.bias)
   if gw or gb then
      self:_backward(input, gradOutput, nil, gw, gb, scale)
   end
end

function BN:clearState()
   nn.utils.clear(self, {'buffer', 'buffer2', 'centered', 'std', 'normalized',
                         '_input', '_gradOutput', 'save_mean', 'save_std'})
   return parent.clearState(self)
end

function BN:__tostring__()
   return string.format('%s (%dD) (%d)', torch.type(self), self.nDim or 2, self.running_mean:nElement())
end

return BN
