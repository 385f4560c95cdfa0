-- nn.ReinforceNormal(stdev, stochastic): samples mean + stdev * N(0, 1) in
-- training, outputs the mean in evaluation. Input the mean, or {mean, stdev}.
local schema = require('nn.schema')
local ReinforceNormal, parent = torch.class('nn.ReinforceNormal', 'nn.Reinforce')

schema.declare(ReinforceNormal, {
   {'stdev', 'number|tensor?'},
})

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
            out:cmul(stdev:contiguous():view(1, unpack(stdev:size():totable())):expandAs(mean))
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

return ReinforceNormal
