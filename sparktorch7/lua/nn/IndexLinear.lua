-- nn.IndexLinear(inputSize, outputSize[, doGradInput, keysOffset, weight, bias, normalize]):
-- a linear layer of sparse inputs given as keys (feature indices, 1-based by default;
-- keysOffset shifts them) and their values:
--   {keys, values}                          one sample (1D LongTensor and 1D tensor)
--   {{keys1, keys2, ...}, {values1, ...}}   a batch
--   {keys, values, sizes}                   a batch, concatenated, sizes[j] keys per sample
-- y_j = bias + sum_i values_i weight[keys_i] (weight is inputSize x outputSize). With
-- normalize, each feature's row starts with 4 more columns: its largest |value| seen in
-- training, its inverse, an update scale and a per-feature bias; a value is then divided by
-- the largest one (clamped to sign(value) beyond it) plus that bias. As in Torch7's THNN
-- kernels, gradients are dense per key: accGradParameters keeps, per call, the keys and a
-- (keys x outputSize) gradient in self.running, and updateParameters applies them all
-- (zeroGradParameters forgets them). gradInput, with doGradInput, is the gradient with
-- respect to a dense input: every feature's index and weight row times gradOutput.
local schema = require('nn.schema')
local IndexLinear, parent = torch.class('nn.IndexLinear', 'nn.Module')

schema.declare(IndexLinear, {
   {'normalize', 'natural', check = schema.oneOf(0, 4)},
   {'weight', 'tensor', dim = 2},
   {'bias', 'tensor', dim = 1},
   {'inputSize', 'posint', check = 'inputSize == weight:size(1)'},
   {'outputSize', 'posint', check = 'outputSize + normalize == weight:size(2)'},
   {'gradBias', 'tensor?'}, {'gradWeight', 'tensor|table?'},
   {'running', 'table'},
   {'offset', 'int'},
   {'weightDecay', 'number?'},
   {'doGradInput', 'boolean?'},
})

local function isList(t)
   return type(t) == 'table' and not torch.typename(t)
end

function IndexLinear:__init(inputSize, outputSize, doGradInput, keysOffset, weight, bias, normalize)
   parent.__init(self)
   self.normalize = normalize and 4 or 0
   self.weight = weight or torch.Tensor(inputSize, outputSize + self.normalize):zero()
   self.bias = bias or torch.Tensor(outputSize):zero()
   if not torch.isTensor(self.weight) or self.weight:dim() ~= 2 then
      error('<nn.IndexLinear> weight must be a 2D tensor (inputSize x outputSize)', 2)
   end
   self.inputSize = self.weight:size(1)
   self.outputSize = self.weight:size(2) - self.normalize
   if self.bias:nElement() ~= self.outputSize then
      error(string.format('<nn.IndexLinear> bias has %d elements, the weight gives %d outputs',
                          self.bias:nElement(), self.outputSize), 2)
   end
   self.gradWeight = torch.Tensor()
   self.gradBias = torch.Tensor(self.outputSize):zero()
   self.gradWeightBuffer = torch.Tensor()
   self.valuesBuffer = torch.Tensor()
   self.normalizedValues = torch.Tensor()
   self.running = {cumSumSizes = {}, keys = {}, gradWeight = {}, counter = 1}
   self.sizesCache = {}
   self.cumSumSizesCache = {}
   self.weightDecay = 0
   self.doGradInput = doGradInput or false
   self.offset = keysOffset and keysOffset - 1 or -1
end

function IndexLinear:reset(stdv)
   stdv = stdv and stdv * math.sqrt(3) or 1 / math.sqrt(self.weight:size(2))
   self.weight:uniform(-stdv, stdv)
   self.bias:uniform(-stdv, stdv):mul(0.000001)
   if self.normalize > 0 then
      self.weight:narrow(2, 1, self.normalize):zero()
   end
   return self
end

local function sizeText(t)
   if torch.isTensor(t) then return table.concat(t:size():totable(), 'x') .. ' ' .. torch.type(t) end
   return torch.type(t)
end

-- self.keys (LongTensor), self.values (the weight's type), self.sizes and self.cumSumSizes
-- (LongTensors, per sample) from any of the three input layouts; sets isFlat and noBatch
function IndexLinear:flattenInputs(input)
   if not isList(input) or (#input ~= 2 and #input ~= 3) then
      error('<nn.IndexLinear> input must be {keys, values}, {{keys...}, {values...}} or ' ..
            '{keys, values, sizes}, got ' .. (isList(input) and 'a table of ' .. #input .. ' entries'
            or torch.type(input)), 3)
   end
   local counter = self.running.counter
   self.running.keys[counter] = self.running.keys[counter] or torch.LongTensor()
   local keys = self.running.keys[counter]
   self.keys = keys
   self.values = torch.isTensor(self.values) and self.values:typeAs(self.weight) or self.weight.new()
   local lkeys, lvalues
   if #input == 3 then
      local fkeys, fvals = input[1], input[2]
      local fsizes = torch.isTensor(input[3]) and input[3] or torch.LongTensor({input[3]})
      if not torch.isTensor(fkeys) or not torch.isTensor(fvals) or fkeys:dim() ~= 1
            or fkeys:nElement() ~= fvals:nElement() then
         error(string.format('<nn.IndexLinear> flat input: keys and values must be 1D tensors of the same ' ..
                             'size, got %s and %s', sizeText(fkeys), sizeText(fvals)), 3)
      end
      self.isFlat, self.noBatch = true, false
      keys:resize(fkeys:nElement()):copy(fkeys)
      self.values:resize(fvals:nElement()):copy(fvals)
      self.sizes = fsizes:long()
      self.cumSumSizes = torch.LongTensor():cumsum(self.sizes, 1)
      if self.sizes:dim() ~= 1 or (self.cumSumSizes:nElement() > 0 and self.cumSumSizes[self.cumSumSizes:nElement()] ~= fkeys:nElement()) then
         error(string.format('<nn.IndexLinear> flat input: the sizes must add up to the %d keys',
                             fkeys:nElement()), 3)
      end
   else
      if isList(input[1]) and isList(input[2]) then
         lkeys, lvalues = input[1], input[2]
         self.isFlat, self.noBatch = false, false
      elseif torch.isTensor(input[1]) and torch.isTensor(input[2]) then
         lkeys, lvalues = {input[1]}, {input[2]}
         self.isFlat, self.noBatch = false, true
      else
         error(string.format('<nn.IndexLinear> input must hold keys and values as two tensors or two tables ' ..
                             'of tensors, got %s and %s', torch.type(input[1]), torch.type(input[2])), 3)
      end
      if #lkeys ~= #lvalues then
         error(string.format('<nn.IndexLinear> %d tensors of keys but %d of values', #lkeys, #lvalues), 3)
      end
      local n = #lkeys
      self.sizes = torch.LongTensor(n)
      local total = 0
      for i = 1, n do
         local k, v = lkeys[i], lvalues[i]
         if not torch.isTensor(k) or not torch.isTensor(v) or k:dim() > 1 or k:nElement() ~= v:nElement() then
            error(string.format('<nn.IndexLinear> sample %d: keys and values must be 1D tensors of the same size, ' ..
                                'got %s and %s', i, sizeText(k), sizeText(v)), 3)
         end
         self.sizes[i] = k:nElement()
         total = total + k:nElement()
      end
      keys:resize(total)
      self.values:resize(total)
      local at = 1
      for i = 1, n do
         local m = lkeys[i]:nElement()
         if m > 0 then
            keys:narrow(1, at, m):copy(lkeys[i])
            self.values:narrow(1, at, m):copy(lvalues[i])
         end
         at = at + m
      end
      self.cumSumSizes = n > 0 and torch.LongTensor():cumsum(self.sizes, 1) or torch.LongTensor()
      self.lkeys, self.lvalues = lkeys, lvalues
   end
   self.running.cumSumSizes[counter] = self.cumSumSizes
   -- every key must name a row of the weight
   local kp, lo = keys:data(), -self.offset
   for i = 0, keys:nElement() - 1 do
      local r = tonumber(kp[i]) + self.offset
      if r < 0 or r >= self.inputSize then
         error(string.format('<nn.IndexLinear> key %d is out of range: keys go from %d to %d', tonumber(kp[i]),
                             lo, lo + self.inputSize - 1), 3)
      end
   end
end

-- the value a key's weight row multiplies: in normalize mode the normalised one (updating
-- the feature's largest |value| in training), else the value itself
local function normalized(w, row, v, train)
   local a = math.abs(v)
   if train then
      if a > w[row] then
         w[row] = a
         w[row + 1] = 1 / a
      end
      w[row + 2] = 1
   end
   local sign = v < 0 and -1 or (v > 0 and 1 or 0)
   return (a > w[row] and sign or v * w[row + 1]) + w[row + 3]
end

function IndexLinear:updateOutput(input)
   self:flattenInputs(input)
   local W, b = self.weight, self.bias
   if not W:isContiguous() or not b:isContiguous() then
      error('<nn.IndexLinear> weight and bias must be contiguous', 2)
   end
   local batch, outDim, norm = self.sizes:nElement(), self.outputSize, self.normalize
   local out = self.output
   if not torch.isTensor(out) or torch.type(out) ~= torch.type(W) then
      out = nn.utils.newLike(W)
   end
   out:resize(batch, outDim)
   if not out:isContiguous() then out = nn.utils.newLike(W):resize(batch, outDim) end
   self.output = out
   local nv
   if norm > 0 then
      self.normalizedValues = self.normalizedValues:typeAs(W):resize(self.keys:nElement())
      nv = self.normalizedValues:data()
   end
   local y, w, bp = out:data(), W:data(), b:data()
   local kp, vp, sp = self.keys:data(), self.values:data(), self.sizes:data()
   local stride, train, at = W:stride(1), self.train ~= false, 0
   for j = 0, batch - 1 do
      local yj = j * outDim
      for c = 0, outDim - 1 do y[yj + c] = bp[c] end
      for _ = 1, tonumber(sp[j]) do
         local row = stride * (tonumber(kp[at]) + self.offset)
         local v = vp[at]
         if norm > 0 then
            v = normalized(w, row, v, train)
            nv[at] = v
            row = row + norm
         end
         for c = 0, outDim - 1 do
            y[yj + c] = y[yj + c] + w[row + c] * v
         end
         at = at + 1
      end
   end
   if self.noBatch then
      out:resize(outDim)
   end
   return out
end

-- gradOutput checked against the last forward's batch: a contiguous batch x outputSize tensor
local function gradRows(self, gradOutput)
   local batch = self.sizes and self.sizes:nElement()
   if not batch then
      error('<nn.IndexLinear> backward before forward: run forward on this input first', 3)
   end
   if not torch.isTensor(gradOutput) or gradOutput:nElement() ~= batch * self.outputSize then
      error(string.format('<nn.IndexLinear> gradOutput must be a tensor of %d x %d elements, got %s', batch,
                          self.outputSize, sizeText(gradOutput)), 3)
   end
   return gradOutput:typeAs(self.weight):contiguous():view(batch, self.outputSize)
end

-- the values each key's row was multiplied by in the last forward
local function usedValues(self)
   return (self.normalize > 0 and self.normalizedValues or self.values):data()
end

-- Per key i of sample j, rows of the dense gradient: scale gradOutput[j] values_i (preceded,
-- in normalize mode, by scale gradOutput[j], for the feature's bias column); gradBias gets
-- scale gradOutput[j]. Kept in running.gradWeight[counter] until updateParameters.
function IndexLinear:accGradParameters(input, gradOutput, scale)
   scale = scale or 1
   local go = gradRows(self, gradOutput)
   local counter = self.running.counter
   local outDim, norm = self.outputSize, self.normalize > 0
   local width = norm and 2 * outDim or outDim
   local gw = self.running.gradWeight[counter]
   gw = torch.isTensor(gw) and gw:typeAs(self.weight) or self.weight.new()
   gw:resize(self.keys:nElement(), width)
   self.running.gradWeight[counter] = gw
   self.gradBias = self.gradBias:typeAs(self.weight)
   local g, gp, gb = go:data(), gw:data(), self.gradBias:data()
   local vp, sp = usedValues(self), self.sizes:data()
   local at = 0
   for j = 0, self.sizes:nElement() - 1 do
      local gj = j * outDim
      for c = 0, outDim - 1 do gb[c] = gb[c] + scale * g[gj + c] end
      for _ = 1, tonumber(sp[j]) do
         local base, v = at * width, vp[at] * scale
         if norm then
            for c = 0, outDim - 1 do gp[base + c] = g[gj + c] * scale end
            base = base + outDim
         end
         for c = 0, outDim - 1 do gp[base + c] = v * g[gj + c] end
         at = at + 1
      end
   end
   self.running.counter = counter + 1
end

-- Applies the gradients accumulated since zeroGradParameters: bias -= lr gradBias; each key's
-- row -= lr (its gradient rows), with weight decay on the rows touched and, in normalize
-- mode, the feature's bias column moved too and the step scaled by its update-scale column.
function IndexLinear:updateParameters(lr)
   if type(lr) ~= 'number' then
      error('<nn.IndexLinear> updateParameters needs a learning rate', 2)
   end
   local counter = self.running.counter
   if counter <= 1 then return end
   local keys, grads = {}, {}
   for i = 1, counter - 1 do
      keys[i] = self.running.keys[i]
      grads[i] = self.running.gradWeight[i]
   end
   local W, b = self.weight, self.bias
   b:add(-lr, self.gradBias:typeAs(b))
   local outDim, norm, wd = self.outputSize, self.normalize, self.weightDecay or 0
   local w, stride = W:data(), W:stride(1)
   for i = 1, #keys do
      local kp, gp = keys[i]:data(), grads[i]:contiguous():data()
      local width = grads[i]:size(2)
      for j = 0, keys[i]:nElement() - 1 do
         local row = stride * (tonumber(kp[j]) + self.offset)
         local g = j * width
         local rate, decay = lr, wd
         if norm > 0 then
            rate, decay = lr * w[row + 2], wd * w[row + 2]
            if outDim == 1 then
               -- Torch7's one-output case adds the decay term (its kernel's sign)
               w[row + 3] = w[row + 3] - w[row + 4] * gp[g] * rate
               w[row + 4] = w[row + 4] - (gp[g + 1] * rate - wd * w[row + 2] * w[row + 4])
               goto continue
            end
            for c = 0, outDim - 1 do
               w[row + 3] = w[row + 3] - gp[g + c] * w[row + 4 + c] * rate
            end
            row, g = row + 4, g + outDim
         end
         if decay ~= 0 then
            if norm == 0 and outDim == 1 then
               w[row] = w[row] - (gp[g] * rate + decay * w[row])
               goto continue
            end
            for c = 0, outDim - 1 do w[row + c] = w[row + c] - w[row + c] * decay end
         end
         for c = 0, outDim - 1 do
            w[row + c] = w[row + c] - gp[g + c] * rate
         end
         ::continue::
      end
   end
   self.updateKeys = keys[#keys]
end

-- The update straight from the last forward's keys and values: bias -= scale gradOutput, each
-- key's row -= scale gradOutput value (after weight decay); in normalize mode scaled by the
-- feature's update-scale column, which the one-output case then resets to 0 (as Torch7).
function IndexLinear:accUpdateGradParameters(input, gradOutput, scale)
   scale = scale or 1
   local go = gradRows(self, gradOutput)
   local W, b = self.weight, self.bias
   local outDim, norm, wd = self.outputSize, self.normalize, self.weightDecay or 0
   local w, bp, g = W:data(), b:data(), go:data()
   local kp, vp, sp, stride = self.keys:data(), usedValues(self), self.sizes:data(), W:stride(1)
   local at = 0
   for j = 0, self.sizes:nElement() - 1 do
      local gj = j * outDim
      for c = 0, outDim - 1 do bp[c] = bp[c] - scale * g[gj + c] end
      for _ = 1, tonumber(sp[j]) do
         local row = stride * (tonumber(kp[at]) + self.offset)
         local v, decay = vp[at] * scale, wd
         if norm > 0 then
            local s = w[row + 2]
            if outDim == 1 then
               local gs = g[gj] * scale
               w[row + 3] = w[row + 3] - w[row + 4] * gs * s
               w[row + 4] = w[row + 4] - (gs * vp[at] - wd * w[row + 4]) * s
               goto continue
            end
            v, decay = v * s, wd * s
            for c = 0, outDim - 1 do
               w[row + 3] = w[row + 3] - w[row + 4 + c] * scale * g[gj + c] * s
            end
            row = row + 4
         end
         if decay ~= 0 then
            for c = 0, outDim - 1 do w[row + c] = w[row + c] - decay * w[row + c] end
         end
         for c = 0, outDim - 1 do
            w[row + c] = w[row + c] - v * g[gj + c]
         end
         ::continue::
         at = at + 1
      end
   end
   if norm > 0 and outDim == 1 then
      for i = 0, self.keys:nElement() - 1 do
         w[stride * (tonumber(kp[i]) + self.offset) + 2] = 0
      end
   end
end

-- With doGradInput: the gradient with respect to a dense input of every feature: for each
-- sample, all feature indices 1..inputSize and gradOutput weight^T (not in normalize mode).
-- Without it, an empty table.
function IndexLinear:updateGradInput(input, gradOutput)
   self.gradInput = {}
   if not self.doGradInput then
      return self.gradInput
   end
   if self.normalize > 0 then
      error('<nn.IndexLinear> updateGradInput is not implemented in max-normalize mode', 2)
   end
   local go = gradRows(self, gradOutput)
   local n = self.inputSize
   local gi = torch.mm(go, self.weight:t())          -- batch x inputSize
   local indices = torch.range(1, n):long()
   if self.isFlat then
      self.gradInput[1] = torch.repeatTensor(indices, gi:size(1), 1)
      self.gradInput[2] = gi
   else
      self.gradInput[1], self.gradInput[2] = {}, {}
      for i = 1, gi:size(1) do
         self.gradInput[1][i] = indices:clone()
         self.gradInput[2][i] = gi[i]:clone()
      end
   end
   if self.noBatch then
      if self.isFlat then
         self.gradInput = {self.gradInput[1]:view(n), self.gradInput[2]:view(n)}
      else
         self.gradInput = {self.gradInput[1][1], self.gradInput[2][1]}
      end
   end
   return self.gradInput
end

function IndexLinear:zeroGradParameters()
   self.gradBias:zero()
   self.running.counter = 1
end

-- as Torch7: the gradient of the weight is the running table of dense per-key gradients
function IndexLinear:parameters()
   return {self.weight, self.bias}, {self.running, self.gradBias}
end

function IndexLinear:clearState()
   self.running.keys = {}
   self.running.gradWeight = {}
   self.running.cumSumSizes = {}
   self.running.counter = 1
   self.keys, self.values, self.sizes, self.cumSumSizes = nil, nil, nil, nil
   self.updateKeys, self.lkeys, self.lvalues = nil, nil, nil
   self.gradWeightBuffer = nn.utils.newLike(self.weight)
   self.valuesBuffer = nn.utils.newLike(self.weight)
   self.normalizedValues = nn.utils.newLike(self.weight)
   return parent.clearState(self)
end

-- the keys stay LongTensors: the buffers holding them are dropped before the types change
function IndexLinear:type(typename, tensorCache)
   if typename then
      self:clearState()
      self.sizesCache, self.cumSumSizesCache = {}, {}
   end
   return parent.type(self, typename, tensorCache)
end

function IndexLinear:__tostring__()
   return torch.type(self) .. string.format('(%d -> %d)', self.inputSize, self.outputSize) ..
          (self.normalize > 0 and ' normalized' or '')
end

return IndexLinear
