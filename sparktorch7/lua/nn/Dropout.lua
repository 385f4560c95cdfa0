-- nn.Dropout: in evaluation y = x (version 2, the default: scaling happens in
-- training) or y = (1 - p) x (version 1 files, which have no v2 field). In
-- training each element is kept with probability 1 - p.
local pointwise = require('nn.pointwise')
local schema = require('nn.schema')
local Dropout, parent = torch.class('nn.Dropout', 'nn.Module')

schema.declare(Dropout, {
   {'p', 'number', min = 0, max = 1},
   {'v2', 'boolean?'}, {'inplace', 'boolean?'}, {'stochastic_inference', 'boolean?'},
   {'noise', 'tensor?'},
})

function Dropout:__init(p, v1, inplace, stochasticInference)
   parent.__init(self)
   self.p = p or 0.5
   self.train = true
   self.inplace = inplace
   self.stochastic_inference = stochasticInference or false
   self.v2 = not v1
   if self.p >= 1 or self.p < 0 then
      error('<nn.Dropout> illegal percentage, must be 0 <= p < 1', 2)
   end
   self.noise = torch.Tensor()
end

function Dropout:setp(p)
   self.p = p
   return self
end

function Dropout:updateOutput(input)
   local y, x, n, back = pointwise.begin(self, input, torch.type(self))
   local p = self.p
   if p > 0 and (self.train or self.stochastic_inference) then
      -- the mask comes from torch's generator, so torch.manualSeed repeats it
      local keep = 1 - p
      local scale = self.v2 and 1 / keep or 1
      if not torch.isTensor(self.noise) then
         self.noise = torch.Tensor()
      end
      local noise = pointwise.contiguous(self.noise:resize(n):bernoulli(keep))
      local m = noise:data()
      for i = 0, n - 1 do
         y[i] = x[i] * m[i] * scale
      end
   elseif p > 0 and not self.v2 then
      local keep = 1 - p
      for i = 0, n - 1 do
         y[i] = x[i] * keep
      end
   elseif y ~= x then
      for i = 0, n - 1 do
         y[i] = x[i]
      end
   end
   return pointwise.finish(self, input, back)
end

function Dropout:__tostring__()
   return string.format('%s(%f)', torch.type(self), self.p)
end

function Dropout:clearState()
   if self.noise then
      self.noise = nn.utils.newLike(self.noise)
   end
   return parent.clearState(self)
end

-- dE/dx = dE/dy times what forward multiplied the input by: the mask (scaled by
-- 1 / (1 - p) in version 2) when it dropped, 1 - p for version 1 in evaluation, else 1.
-- In place the gradient is written over gradOutput.
function Dropout:updateGradInput(input, gradOutput)
   local gi, go, n, back = pointwise.beginGrad(self, input, gradOutput, torch.type(self))
   local p = self.p
   if p > 0 and (self.train or self.stochastic_inference) then
      if not torch.isTensor(self.noise) or self.noise:nElement() ~= n then
         error(string.format('<%s> no dropout mask for this input: run forward first', torch.type(self)), 2)
      end
      local scale = self.v2 and 1 / (1 - p) or 1
      local m = pointwise.contiguous(self.noise):data()
      for i = 0, n - 1 do
         gi[i] = go[i] * m[i] * scale
      end
   else
      local keep = (p > 0 and not self.v2) and 1 - p or 1
      for i = 0, n - 1 do
         gi[i] = go[i] * keep
      end
   end
   return pointwise.finishGrad(self, gradOutput, back)
end

return Dropout
