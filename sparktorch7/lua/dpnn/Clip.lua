-- nn.Clip(minval, maxval): y = min(max(x, minval), maxval).
local schema = require('nn.schema')
local kernels = require('nn.kernels')
local Clip, parent = torch.class('nn.Clip', 'nn.Module')

schema.declare(Clip, {
   {'minval', 'number'},
   {'maxval', 'number', check = 'maxval >= minval'},
})

function Clip:__init(minval, maxval)
   if type(minval) ~= 'number' or type(maxval) ~= 'number' then
      error('<nn.Clip> expects the bounds minval and maxval (numbers)', 2)
   end
   self.minval = minval
   self.maxval = maxval
   parent.__init(self)
end

function Clip:updateOutput(input)
   if not torch.isTensor(input) then
      error('<nn.Clip> input must be a tensor, got ' .. torch.type(input), 2)
   end
   if not torch.isTensor(self.output) or torch.type(self.output) ~= torch.type(input) or self.output == input then
      self.output = nn.utils.newLike(input)
   end
   self.output:resizeAs(input):copy(input):clamp(self.minval, self.maxval)
   return self.output
end

-- dpnn's gradient passes straight through, inside the bounds or not
function Clip:updateGradInput(input, gradOutput)
   local gi = kernels.output(self, gradOutput, nil, 'gradInput')
   gi:copy(gradOutput)
   return gi
end

return Clip
