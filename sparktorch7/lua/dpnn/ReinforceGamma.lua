-- nn.ReinforceGamma(scale, stochastic): a gamma distribution of shape input
-- (and scale, a field or the second input); evaluation outputs its mean
-- shape * scale; training draws from it (on torch's generator) and backward gives the
-- REINFORCE gradient of shape (and of scale when it is the second input).
local schema = require('nn.schema')
local kernels = require('nn.kernels')
local ReinforceGamma, parent = torch.class('nn.ReinforceGamma', 'nn.Reinforce')

schema.declare(ReinforceGamma, {
   {'scale', 'number|tensor?'},
})

-- digamma(x) for x > 0: the recurrence up to x >= 10, then the asymptotic series
local function digamma(x)
   if x <= 0 then return 0 / 0 end
   local r = 0
   while x < 10 do
      r = r - 1 / x
      x = x + 1
   end
   local f = 1 / (x * x)
   return r + math.log(x) - 0.5 / x
      - f * (1 / 12 - f * (1 / 120 - f * (1 / 252 - f * (1 / 240 - f * (1 / 132)))))
end

-- one Gamma(k, 1) draw (Marsaglia and Tsang; k < 1 through Gamma(k + 1) * U^(1/k))
local function gammaDraw(k)
   if not (k > 0) then
      error(string.format('<nn.ReinforceGamma> shape must be > 0, got %s', tostring(k)), 3)
   end
   if k < 1 then
      return gammaDraw(k + 1) * torch.uniform() ^ (1 / k)
   end
   local d = k - 1 / 3
   local c = 1 / math.sqrt(9 * d)
   while true do
      local x, v
      repeat
         x = torch.normal(0, 1)
         v = 1 + c * x
      until v > 0
      v = v * v * v
      local u = torch.uniform()
      if u < 1 - 0.0331 * x ^ 4 or math.log(u) < 0.5 * x * x + d * (1 - v + math.log(v)) then
         return d * v
      end
   end
end

function ReinforceGamma:__init(scale, stochastic)
   parent.__init(self, stochastic)
   self.scale = scale
   if not scale then
      self.gradInput = {torch.Tensor(), torch.Tensor()}
   end
end

function ReinforceGamma:updateOutput(input)
   local shape, scale = input, self.scale
   if type(input) == 'table' and not torch.isTensor(input) then
      shape, scale = input[1], input[2]
   end
   if not torch.isTensor(shape) or scale == nil then
      error('<nn.ReinforceGamma> expects a shape tensor and a scale (field or second input)', 2)
   end
   if type(scale) == 'number' then
      scale = nn.utils.newLike(shape):resizeAs(shape):fill(scale)
   elseif torch.isTensor(scale) and scale:dim() ~= shape:dim() then
      scale = scale:contiguous():view(1, unpack(scale:size():totable())):expandAs(shape)
   end
   local out = self:_outputLike(shape)
   self._scaleAs = scale
   if self:_sampling() then
      -- dpnn draws with randomkit; here Marsaglia and Tsang's method on torch's generator
      -- (so torch.manualSeed makes the draws repeatable)
      local k = shape:contiguous():view(-1)
      local th = scale:contiguous():view(-1)
      local o = out:view(-1)
      for i = 1, k:size(1) do
         o[i] = gammaDraw(k[i]) * th[i]
      end
   else
      out:copy(shape):cmul(scale)
   end
   return out
end

-- d ln f / d shape = ln x - digamma(shape) - ln scale; d ln f / d scale = x / scale^2 - shape / scale;
-- each times the reward, negated (descent)
function ReinforceGamma:updateGradInput(input, gradOutput)
   local shape, scale = input, self.scale
   local asTable = type(input) == 'table' and not torch.isTensor(input)
   if asTable then shape, scale = input[1], input[2] end
   local sc = self._scaleAs
   if not (torch.isTensor(sc) and sc:isSameSizeAs(shape)) then
      error('<nn.ReinforceGamma> no draw for this input: run forward first', 2)
   end
   local gk = kernels.output(self, shape, nil, '_gradShape')
   local k, o, g = shape:contiguous():view(-1), self.output:contiguous():view(-1), gk:view(-1)
   for i = 1, k:size(1) do g[i] = -digamma(k[i]) end
   gk:add(self.output.new():resizeAs(self.output):copy(self.output):log())
   gk:add(-1, sc.new():resizeAs(sc):copy(sc):log())
   gk:cmul(self:rewardAs(shape)):mul(-1)
   if not asTable then
      self.gradInput = gk
      return gk
   end
   local gs = kernels.output(self, sc, nil, '_gradScale')
   gs:copy(self.output):cdiv(torch.pow(sc, 2)):add(-1, torch.cdiv(shape, sc))
   gs:cmul(self:rewardAs(sc)):mul(-1)
   self.gradInput = {gk, gs}
   return self.gradInput
end

return ReinforceGamma
