-- nn.LookupTable: maps indices (1-based, any numeric tensor, 1D or 2D) to rows
-- of self.weight. With maxNorm set, looked-up rows are first rescaled to have
-- a normType-norm of at most maxNorm, as Torch7 does (this changes the weights).
local pointwise = require('nn.pointwise')
local schema = require('nn.schema')
local LookupTable, parent = torch.class('nn.LookupTable', 'nn.Module')

schema.declare(LookupTable, {
   {'weight', 'tensor', dim = 2},
   {'paddingValue', 'number?'},
   {'maxNorm', 'number?'}, {'normType', 'number?'},
   {'shouldScaleGradByFreq', 'boolean?'},
   {'gradWeight', 'tensor?'},
})

LookupTable.__version = 4

function LookupTable:__init(nIndex, nOutput, paddingValue, maxNorm, normType)
   parent.__init(self)
   self.weight = torch.Tensor(nIndex, nOutput)
   self.gradWeight = torch.Tensor(nIndex, nOutput):zero()
   self.paddingValue = paddingValue or 0
   self.maxNorm = maxNorm or nil
   self.normType = normType or nil
   self:reset()
end

function LookupTable:backCompatibility(version)
   parent.backCompatibility(self, version)
   if not self.shouldScaleGradByFreq then
      self.shouldScaleGradByFreq = false
   end
end

function LookupTable:setPadding(paddingValue)
   self.paddingValue = paddingValue
   return self
end

function LookupTable:setMaxNorm(maxNorm)
   self.maxNorm = maxNorm
   return self
end

function LookupTable:setNormType(normType)
   self.normType = normType
   return self
end

function LookupTable:scaleGradByFreq()
   self.shouldScaleGradByFreq = true
   return self
end

function LookupTable:accUpdateOnly()
   self.gradWeight = nil
   return self
end

function LookupTable:reset(stdv)
   self.weight:normal(0, stdv or 1)
   return self
end

local function renormRow(w, base, n, maxNorm, normType)
   local norm = 0
   for j = 0, n - 1 do
      local v = math.abs(w[base + j])
      if normType == 1 then
         norm = norm + v
      else
         norm = norm + v ^ normType
      end
   end
   if normType ~= 1 then
      norm = norm ^ (1 / normType)
   end
   if norm > maxNorm then
      local scale = maxNorm / (norm + 1e-7)
      for j = 0, n - 1 do
         w[base + j] = w[base + j] * scale
      end
   end
end

function LookupTable:updateOutput(input)
   if not torch.isTensor(input) then
      error('<nn.LookupTable> input must be a tensor of indices', 2)
   end
   local d = input:dim()
   if d ~= 1 and d ~= 2 then
      error(string.format('<nn.LookupTable> input must be 1D or 2D, not %dD', d), 2)
   end
   local W = self.weight
   if not W:isContiguous() then
      self.weight = W:contiguous()
      W = self.weight
   end
   local nIndex, n = W:size(1), W:size(2)
   local idx = pointwise.contiguous(input)
   local count = idx:nElement()
   local ip = idx:data()
   local w = W:data()
   for i = 0, count - 1 do
      local k = tonumber(ip[i])
      if k < 1 or k > nIndex or k ~= math.floor(k) then
         error(string.format('<nn.LookupTable> index %s out of range [1, %d]', tostring(k), nIndex), 2)
      end
   end
   if self.maxNorm then
      local seen = {}
      for i = 0, count - 1 do
         local k = tonumber(ip[i])
         if not seen[k] then
            seen[k] = true
            renormRow(w, (k - 1) * n, n, self.maxNorm, self.normType or 2)
         end
      end
   end
   local sizes = d == 1 and torch.LongStorage({count, n}) or torch.LongStorage({input:size(1), input:size(2), n})
   if not torch.isTensor(self.output) or torch.type(self.output) ~= torch.type(W) then
      self.output = nn.utils.newLike(W)
   end
   local out = self.output:resize(sizes)
   if not out:isContiguous() then
      out = nn.utils.newLike(W):resize(sizes)
      self.output = out
   end
   local y = out:data()
   for i = 0, count - 1 do
      local base = (tonumber(ip[i]) - 1) * n
      local dst = i * n
      for j = 0, n - 1 do
         y[dst + j] = w[base + j]
      end
   end
   return out
end

function LookupTable:clearState()
   nn.utils.clear(self, '_count', '_input', '_gradOutput')
   return parent.clearState(self)
end

-- indices have no gradient: zeros shaped like the input (of its type, as Torch7)
function LookupTable:updateGradInput(input, gradOutput)
   if not torch.isTensor(self.gradInput) or torch.type(self.gradInput) ~= torch.type(input) then
      self.gradInput = nn.utils.newLike(input)
   end
   if not self.gradInput:isSameSizeAs(input) then
      self.gradInput:resizeAs(input):zero()
   end
   return self.gradInput
end

-- Row k of gradWeight gets scale times the gradOutput rows of every position that looked
-- k up (divided by how often k occurs in this input with scaleGradByFreq); positions
-- holding paddingValue add nothing.
function LookupTable:accGradParameters(input, gradOutput, scale)
   scale = scale or 1
   local d = torch.isTensor(input) and input:dim() or 0
   if d ~= 1 and d ~= 2 then
      error('<nn.LookupTable> input must be a 1D or 2D tensor of indices', 2)
   end
   local W = self.weight
   local nIndex, n = W:size(1), W:size(2)
   local count = input:nElement()
   if not torch.isTensor(gradOutput) or gradOutput:nElement() ~= count * n then
      error(string.format('<nn.LookupTable> gradOutput must hold %d rows of %d values (one per index)',
                          count, n), 2)
   end
   if not torch.isTensor(self.gradWeight) or self.gradWeight:nElement() ~= W:nElement() then
      self.gradWeight = W.new():resizeAs(W):zero()
   end
   if not self.gradWeight:isContiguous() then
      error('<nn.LookupTable> gradWeight must be contiguous', 2)
   end
   local ip = pointwise.contiguous(input):data()
   local go = pointwise.contiguous(gradOutput):data()
   local gw = self.gradWeight:data()
   local pad = self.paddingValue or 0
   local freq
   if self.shouldScaleGradByFreq then
      freq = {}
      for i = 0, count - 1 do
         local k = tonumber(ip[i])
         freq[k] = (freq[k] or 0) + 1
      end
   end
   for i = 0, count - 1 do
      local k = tonumber(ip[i])
      if k < 1 or k > nIndex or k ~= math.floor(k) then
         error(string.format('<nn.LookupTable> index %s out of range [1, %d]', tostring(k), nIndex), 2)
      end
      if k ~= pad then
         local s = freq and scale / freq[k] or scale
         local dst, src = (k - 1) * n, i * n
         for j = 0, n - 1 do
            gw[dst + j] = gw[dst + j] + s * go[src + j]
         end
      end
   end
end

-- shared or not, one step straight on the weight (as Torch7)
function LookupTable:sharedAccUpdateGradParameters(input, gradOutput, lr)
   self:defaultAccUpdateGradParameters(input, gradOutput, lr)
end

return LookupTable
