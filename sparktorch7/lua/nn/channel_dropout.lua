-- The methods shared by nn.SpatialDropout and nn.VolumetricDropout: in evaluation
-- y = (1 - p) x; in training whole channels (dimension 2 of a batch of `dims`
-- dimensions, 1 of a single sample) are kept with probability 1 - p.
local pointwise = require('nn.pointwise')
local kernels = require('nn.kernels')

return function(class, parent, name, dims)
   function class:__init(p, stochasticInference)
      parent.__init(self)
      self.p = p or 0.5
      self.train = true
      self.stochastic_inference = stochasticInference or false
      self.noise = torch.Tensor()
   end

   function class:updateOutput(input)
      local y, x, n, back = pointwise.begin(self, input, name)
      local keep = 1 - self.p
      if self.train or self.stochastic_inference then
         local d = input:dim()
         local batch, channels
         if d == dims then
            batch, channels = input:size(1), input:size(2)
         elseif d == dims - 1 then
            batch, channels = 1, input:size(1)
         else
            error(string.format('<%s> input must be %dD or %dD, not %dD', name, dims, dims - 1, d), 2)
         end
         local inner = n / (batch * channels)
         if not torch.isTensor(self.noise) then
            self.noise = torch.Tensor()
         end
         local noise = pointwise.contiguous(self.noise:resize(batch * channels):bernoulli(keep))
         local mp = noise:data()
         local i = 0
         for c = 0, batch * channels - 1 do
            local m = mp[c]
            for _ = 1, inner do
               y[i] = x[i] * m
               i = i + 1
            end
         end
      else
         for i = 0, n - 1 do
            y[i] = x[i] * keep
         end
      end
      return pointwise.finish(self, input, back)
   end

   -- gradOutput times the mask of the last forward (training), or times 1 - p
   function class:updateGradInput(input, gradOutput)
      local ops = require('nn.spatial_ops')
      ops.checkGradOutput(self, input, gradOutput)
      local gin = kernels.output(self, input, nil, 'gradInput')
      local stochastic = self.train or self.stochastic_inference
      if stochastic and not (torch.isTensor(self.noise) and self.noise:nElement() > 0) then
         ops.fail(self, 'no dropout mask: run forward in training mode before backward')
      end
      kernels.channel_dropout_grad(gin, gradOutput, stochastic and self.noise or nil,
                                   input:dim() == dims and 2 or 1, 1 - self.p, stochastic and true or false)
      return gin
   end

   function class:accGradParameters(input, gradOutput, scale)
   end

   function class:__tostring__()
      return string.format('%s(%f)', torch.type(self), self.p)
   end

   function class:clearState()
      if self.noise then
         self.noise = nn.utils.newLike(self.noise)
      end
      return parent.clearState(self)
   end
end
