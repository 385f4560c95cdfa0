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

-- A weight-normalised copy of an nn.Linear (same weight, bias when it has one).
function LinearWeightNorm.fromLinear(linear)
   if not torch.isTypeOf(linear, 'nn.Linear') then
      error(string.format('<nn.LinearWeightNorm> fromLinear expects an nn.Linear, got a %s', torch.type(linear)), 2)
   end
   local hasBias = torch.isTensor(linear.bias)
   local m = nn.LinearWeightNorm(linear.weight:size(2), linear.weight:size(1), hasBias)
   m.weight:copy(linear.weight)
   m:initFromWeight()
   if hasBias then
      m.bias:copy(linear.bias)
   end
   return m
end

-- The nn.Linear computing what this module computes now.
function LinearWeightNorm:toLinear()
   self:updateWeightMatrix()
   local hasBias = torch.isTensor(self.bias)
   local m = nn.Linear(self.inputSize, self.outputSize, hasBias)
   m.weight:copy(self.weight)
   if hasBias then
      m.bias:copy(self.bias)
   end
   return m
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

-- weight_j = g_j v_j / max(||v_j||, eps): with G = dE/dweight (Linear's gradWeight, from
-- gradOutput and the input), dE/dg_j = G_j . v_j / ||v_j|| and
-- dE/dv_j = g_j / ||v_j|| (G_j - dE/dg_j v_j / ||v_j||); each added, times scale, to
-- gradG and gradV, and dE/dbias to gradBias as in Linear.
function LinearWeightNorm:accGradParameters(input, gradOutput, scale)
   scale = scale or 1
   local n, m = self.v:size(1), self.v:size(2)
   for _, f in ipairs({{'gradV', self.v}, {'gradG', self.g}}) do
      if not torch.isTensor(self[f[1]]) or self[f[1]]:nElement() ~= f[2]:nElement() then
         self[f[1]] = f[2].new():resizeAs(f[2]):zero()
      end
   end
   -- dE/dweight, through Linear's accumulation into a zeroed buffer
   if not torch.isTensor(self._gradW) or torch.type(self._gradW) ~= torch.type(self.v) then
      self._gradW = nn.utils.newLike(self.v)
   end
   local G = self._gradW:resize(n, m):zero()
   local gradWeight, bias = self.gradWeight, self.bias
   self.gradWeight, self.bias = G, nil
   local ok, err = pcall(nn.Linear.accGradParameters, self, input, gradOutput, 1)
   self.gradWeight, self.bias = gradWeight, bias
   if not ok then error(err, 0) end
   if self.bias then
      if input:dim() == 1 then
         self.gradBias:add(scale, gradOutput)
      else
         self.gradBias:add(scale, gradOutput:sum(1):view(self.gradBias:nElement()))
      end
   end
   -- G becomes dE/dv row by row (read before anything is added: in accUpdate v is gradV)
   local dgs = {}
   for j = 1, n do
      local v, Gj = self.v:select(1, j), G:select(1, j)
      local norm = math.max(v:norm(), self.eps)
      local dg = Gj:dot(v) / norm
      local gj = self.g[j][1]
      dgs[j] = dg
      Gj:mul(gj / norm):add(-gj * dg / (norm * norm), v)
   end
   local gradG = self.gradG:view(n)
   for j = 1, n do
      gradG[j] = gradG[j] + scale * dgs[j]
   end
   self.gradV:add(scale, G)
end

function LinearWeightNorm:clearState()
   nn.utils.clear(self, '_gradW')
   return parent.clearState(self)
end

-- one step straight on the parameters: v, g and bias stand in for their gradients
function LinearWeightNorm:defaultAccUpdateGradParameters(input, gradOutput, lr)
   local gv, gg, gb = self.gradV, self.gradG, self.gradBias
   self.gradV, self.gradG, self.gradBias = self.v, self.g, self.bias
   local ok, err = pcall(self.accGradParameters, self, input, gradOutput, -lr)
   self.gradV, self.gradG, self.gradBias = gv, gg, gb
   if not ok then error(err, 0) end
end

return LinearWeightNorm
