-- nn.fractional: what nn.SpatialFractionalMaxPooling and nn.VolumetricFractionalMaxPooling
-- share. Each class names its axes in the order of its random samples (Torch7's order:
-- W, H for images; T, W, H for volumes laid out H x W x T), the k-th of them being the
-- k-th last dimension of the input; its fields are poolSize<X>, and out<X> or ratio<X>.
local ops = require 'nn.spatial_ops'
local kernels = require 'nn.kernels'

local fractional = {}

-- the module's fields from the constructor's arguments (pool sizes, then output sizes
-- or reduction ratios, each in axis order)
function fractional.init(self, axes, pools, sizes)
   local cls = torch.type(self)
   local exact, ratio = true, true
   for k, a in ipairs(axes) do
      local p, v = pools[k], sizes[k]
      if type(p) ~= 'number' or p < 2 or p ~= math.floor(p) then
         error(string.format('<%s> poolSize%s must be an integer >= 2, got %s', cls, a, tostring(p)), 3)
      end
      if type(v) ~= 'number' then
         error(string.format('<%s> the output size or ratio along %s must be a number, got %s',
                             cls, a, type(v)), 3)
      end
      self['poolSize' .. a] = p
      exact = exact and v >= 1 and v == math.floor(v)
      ratio = ratio and v > 0 and v < 1
   end
   if not exact and not ratio then
      error(string.format('<%s> give either output sizes (integers >= 1) or reduction ratios '
                          .. '(in (0, 1)) for all of %s', cls, table.concat(axes, ', ')), 3)
   end
   for k, a in ipairs(axes) do
      self[(exact and 'out' or 'ratio') .. a] = sizes[k]
   end
   self.randomSamples = nil
   self.newRandomPool = false
end

local function check(self, input, axes)
   local nd = #axes
   return ops.checkDim(self, input, nd + 1, nd + 2,
                       string.format('%dD or %dD (batch mode)', nd + 1, nd + 2))
end

-- output sizes in axis order
local function outputSizes(self, input, axes)
   local dim = input:dim()
   local sizes = {}
   for k, a in ipairs(axes) do
      local o = self['out' .. a]
      local r = self['ratio' .. a]
      if r ~= nil then
         o = math.floor(input:size(dim - k + 1) * r)
         if o < 1 then
            ops.fail(self, 'reduction ratio or input size along %s too small (%d x %s gives %d)',
                     a, input:size(dim - k + 1), tostring(r), o)
         end
      elseif o == nil then
         ops.fail(self, 'neither out%s nor ratio%s is set', a, a)
      end
      sizes[k] = o
   end
   return sizes
end

-- Torch7's sample buffer: batch x planes x #axes uniform numbers, drawn anew on every
-- forward unless fixPoolingRegions() was called (then kept while they fit the input)
local function samples(self, input, nd)
   local dim = input:dim()
   local n = dim == nd + 2 and input:size(1) or 1
   local c = input:size(dim - nd)
   local s = self.randomSamples
   if not torch.isTensor(s) or torch.type(s) ~= torch.type(input) then
      s = torch.isTensor(s) and s:type(torch.type(input)) or input.new()
   end
   if s:dim() ~= 3 or s:size(1) ~= n or s:size(2) ~= c or s:size(3) ~= nd then
      s:resize(n, c, nd):uniform()
   elseif not self.newRandomPool then
      s:uniform()
   end
   self.randomSamples = s
   return s
end

function fractional.updateOutput(self, input, axes)
   local dim = check(self, input, axes)
   local nd = #axes
   local osizes = outputSizes(self, input, axes)
   local tail, pools = {}, {}
   for k = 1, nd do
      tail[nd - k + 1] = osizes[k]
      pools[nd - k + 1] = self['poolSize' .. axes[k]]
      if osizes[k] + pools[nd - k + 1] - 1 >= input:size(dim - k + 1) then
         ops.fail(self, 'poolSize%s (%d) too large relative to input size %d along %s for %d outputs',
                  axes[k], pools[nd - k + 1], input:size(dim - k + 1), axes[k], osizes[k])
      end
   end
   local s = samples(self, input, nd)
   local sizes = ops.withTail(input, dim - nd, tail)
   local out = kernels.output(self, input, sizes)
   if not torch.isTensor(self.indices) or torch.type(self.indices) ~= 'torch.LongTensor' then
      self.indices = torch.LongTensor()
   end
   self.indices:resize(unpack(sizes))
   kernels.fractional_max_pool(out, self.indices, input, s, unpack(pools))
   return out
end

function fractional.updateGradInput(self, input, gradOutput, axes)
   if not torch.isTensor(self.randomSamples) or not torch.isTensor(self.indices) then
      ops.fail(self, 'must call updateOutput/forward first')
   end
   ops.checkGradOutput(self, input, gradOutput)
   if not self.indices:isSameSizeAs(gradOutput) then
      ops.fail(self, 'the indices of the last forward (%s) do not fit gradOutput (%s): run forward again',
               ops.sizestr(self.indices), ops.sizestr(gradOutput))
   end
   local gin = kernels.output(self, input, nil, 'gradInput')
   kernels.fractional_max_pool_grad(gin, gradOutput, self.indices, #axes)
   return gin
end

function fractional.tostring(self, axes)
   local sizes, pools = {}, {}
   for k, a in ipairs(axes) do
      sizes[k] = tostring(self['out' .. a] or self['ratio' .. a])
      pools[k] = tostring(self['poolSize' .. a])
   end
   return string.format('%s(%s, %s)', torch.type(self), table.concat(sizes, 'x'), table.concat(pools, ','))
end

-- the methods of a fractional pooling class over `axes`: its constructor takes the pool
-- sizes then the output sizes (or ratios), each in axis order
function fractional.install(class, parent, axes)
   local nd = #axes
   function class:__init(...)
      parent.__init(self)
      local args = {...}
      local pools, sizes = {}, {}
      for k = 1, nd do
         pools[k], sizes[k] = args[k], args[nd + k]
      end
      fractional.init(self, axes, pools, sizes)
   end
   -- keep self.randomSamples from one forward to the next (val false: draw anew again)
   function class:fixPoolingRegions(val)
      if val == nil then val = true end
      self.newRandomPool = val
      return self
   end
   function class:updateOutput(input)
      return fractional.updateOutput(self, input, axes)
   end
   function class:updateGradInput(input, gradOutput)
      return fractional.updateGradInput(self, input, gradOutput, axes)
   end
   function class:empty()
      self:clearState()
   end
   function class:clearState()
      self.indices = nil
      self.randomSamples = nil
      return parent.clearState(self)
   end
   function class:__tostring__()
      return fractional.tostring(self, axes)
   end
end

return fractional
