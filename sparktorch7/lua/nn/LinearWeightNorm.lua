-- nn.LinearWeightNorm: nn.Linear whose weight rows are g_j * v_j / ||v_j||
-- (weight normalisation). The weight is recomputed from v and g in training
-- mode and whenever it is missing.
local schema = require('nn.schema')
local LinearWeightNorm, parent = torch.class('nn.LinearWeightNorm', 'nn.Linear')

schema.declare(LinearWeightNorm, {
   {'outputSize', 'posint'}, {'inputSize', 'posint'},
   {'eps', 'number'},
   {'v', 'tensor', size = {'outputSize', 'inputSize'}},
   {'g', 'tensor', size = {'outputSize', 1}},
   {'weight', 'tensor?', check = function(w, m)
      -- forward rebuilds an empty weight from v and g, and runs a non-empty one as it is
      if w:nElement() > 0 and not (w:dim() == 2 and w:size(1) == m.outputSize and w:size(2) == m.inputSize) then
         return string.format('an empty tensor or one of size %dx%d (outputSize x inputSize)',
                              m.outputSize, m.inputSize)
      end
   end},
   {'bias', 'tensor?', size = {'outputSize'}},
   {'gradV', 'tensor?'}, {'gradG', 'tensor?'},
})

function LinearWeightNorm:__init(inputSize, outputSize, bias, eps)
   nn.Module.__init(self)
   if bias == nil then
      bias = true
   end
   self.eps = eps or 1e-16
   self.outputSize = outputSize
   self.inputSize = inputSize
   self.v = torch.Tensor(outputSize, inputSize)
   self.gradV = torch.Tensor(outputSize, inputSize)
   self.weight = torch.Tensor(outputSize, inputSize)
   self.g = torch.Tensor(outputSize, 1)
   self.gradG = torch.Tensor(outputSize, 1)
   if bias then
      self.bias = torch.Tensor(outputSize)
      self.gradBias = torch.Tensor(outputSize)
   end
   self:reset()
end

function LinearWeightNorm:reset(stdv)
   if stdv then
      stdv = stdv * math.sqrt(3)
   else
      stdv = 1 / math.sqrt(self.inputSize)
   end
   self.weight:uniform(-stdv, stdv)
   if self.bias then
      self.bias:uniform(-stdv, stdv)
   end
   self:initFromWeight()
   return self
end

-- v = weight, g = row norms of weight
function LinearWeightNorm:initFromWeight(weight)
   weight = weight or self.weight
   self.v:resizeAs(weight):copy(weight)
   local n, m = weight:size(1), weight:size(2)
   for j = 1, n do
      local row = weight:select(1, j)
      local s = 0
      for i = 1, m do
         s = s + row[i] * row[i]
      end
      self.g[j][1] = math.sqrt(s)
   end
   return self
end

function LinearWeightNorm:updateWeightMatrix()
   local n, m = self.v:size(1), self.v:size(2)
   self.weight = self.weight or nn.utils.newLike(self.v)
   self.weight:resize(n, m)
   for j = 1, n do
      local v = self.v:select(1, j)
      local s = 0
      for i = 1, m do
         s = s + v[i] * v[i]
      end
      local scale = self.g[j][1] / math.max(math.sqrt(s), self.eps)
      local w = self.weight:select(1, j)
      for i = 1, m do
         w[i] = v[i] * scale
      end
   end
end

function LinearWeightNorm:updateOutput(input)
   if self.train ~= false or self.weight == nil or self.weight:nElement() == 0 then
      self:updateWeightMatrix()
   end
   return parent.updateOutput(self, input)
end

function LinearWeightNorm:parameters()
   if self.bias then
      return {self.v, self.g, self.bias}, {self.gradV, self.gradG, self.gradBias}
   end
   return {self.v, self.g}, {self.gradV, self.gradG}
end

function LinearWeightNorm:__tostring__()
   return torch.type(self) .. string.format('(%d -> %d)', self.inputSize, self.outputSize)
          .. (self.bias == nil and ' without bias' or '')
end

return LinearWeightNorm
