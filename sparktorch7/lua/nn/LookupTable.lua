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

return LookupTable
