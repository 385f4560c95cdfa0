-- nn.ReinforceNormal(stdev, stochastic): samples mean + stdev * N(0, 1) in
-- training, outputs the mean in evaluation. Input the mean, or {mean, stdev}.
local schema = require('nn.schema')
local kernels = require('nn.kernels')
local ReinforceNormal, parent = torch.class('nn.ReinforceNormal', 'nn.Reinforce')

schema.declare(ReinforceNormal, {
   {'stdev', 'number|tensor?'},
})

-- a stdev of one sample's shape, expanded over the batch of means
local function perSample(stdev, mean)
   return stdev:contiguous():view(1, unpack(stdev:size():totable())):expandAs(mean)
end

function ReinforceNormal:__init(stdev, stochastic)
   parent.__init(self, stochastic)
   self.stdev = stdev
   if not stdev then
      self.gradInput = {torch.Tensor(), torch.Tensor()}
   end
end

function ReinforceNormal:updateOutput(input)
   local mean, stdev = input, self.stdev
   if type(input) == 'table' and not torch.isTensor(input) then
      mean, stdev = input[1], input[2]
   end
   if not torch.isTensor(mean) or stdev == nil then
      error('<nn.ReinforceNormal> expects a mean tensor and a stdev (field or second input)', 2)
   end
   local out = self:_outputLike(mean)
   if self:_sampling() then
      out:normal()
      if type(stdev) == 'number' then
         out:mul(stdev)
      elseif torch.isTensor(stdev) then
         if stdev:dim() == mean:dim() then
            out:cmul(stdev)
         else
            out:cmul(perSample(stdev, mean))
         end
      else
         error('<nn.ReinforceNormal> stdev must be a number or a tensor, got ' .. torch.type(stdev), 2)
      end
      out:add(mean)
   else
      out:copy(mean)
   end
   return out
end

-- d ln f / d mean = (x - mean) / stdev^2; d ln f / d stdev = ((x - mean)^2 - stdev^2) / stdev^3
-- (stdev^3 offset by 1e-8 as dpnn does); each times the reward, negated
function ReinforceNormal:updateGradInput(input, gradOutput)
   local mean, stdev = input, self.stdev
   local asTable = type(input) == 'table' and not torch.isTensor(input)
   if asTable then mean, stdev = input[1], input[2] end
   local s = stdev
   if torch.isTensor(stdev) and stdev:dim() ~= mean:dim() then s = perSample(stdev, mean) end
   local gm = kernels.output(self, mean, nil, '_gradMean')
   gm:copy(self.output):add(-1, mean)
   if type(s) == 'number' then gm:div(s * s) else gm:cdiv(s):cdiv(s) end
   gm:cmul(self:rewardAs(mean)):mul(-1)
   if not asTable then
      self.gradInput = gm
      return gm
   end
   local gs = kernels.output(self, stdev, nil, '_gradStdev')
   if torch.isTensor(stdev) and stdev:isSameSizeAs(mean) then
      local s2 = stdev.new():resizeAs(stdev):copy(stdev):cmul(stdev)
      gs:copy(self.output):add(-1, mean):pow(2):add(-1, s2)
      gs:cdiv(s2:cmul(stdev):add(0.00000001)):cmul(self:rewardAs(stdev)):mul(-1)
   else
      error('<nn.ReinforceNormal> a stdev input must have the mean\'s size', 2)
   end
   self.gradInput = {gm, gs}
   return self.gradInput
end

return ReinforceNormal
