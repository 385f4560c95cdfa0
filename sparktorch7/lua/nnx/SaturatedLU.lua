-- nn.SaturatedLU([th = -1, v = -1, th2 = 1, v2 = 1]): nnx's two-sided clamp: x < th becomes
-- v, then values above th2 become v2; the rest pass. Gradient 0 where x < th or x > th2.
local schema = require('nn.schema')
local SaturatedLU, parent = torch.class('nn.SaturatedLU', 'nn.Module')

schema.declare(SaturatedLU, {
   {'threshold', 'number'}, {'val', 'number'}, {'threshold2', 'number'}, {'val2', 'number'},
})

function SaturatedLU:__init(th, v, th2, v2)
   parent.__init(self)
   for i, a in ipairs({th or 0, v or 0, th2 or 0, v2 or 0}) do
      if type(a) ~= 'number' then
         error(string.format('<nn.SaturatedLU> expects (lower-bound, value, upper-bound, value2) as numbers, '
                             .. 'argument %d is a %s', i, type(a)), 2)
      end
   end
   self.threshold = th or -1.0
   self.val = v or -1.0
   self.threshold2 = th2 or 1.0
   self.val2 = v2 or 1.0
end

function SaturatedLU:updateOutput(input)
   if not torch.isTensor(input) then
      error('<nn.SaturatedLU> input must be a tensor, got ' .. torch.type(input), 2)
   end
   self.output = input:clone()
   self.output[torch.lt(self.output, self.threshold)] = self.val
   -- nnx tests the upper bound on the output of the first step, as here
   self.output[torch.gt(self.output, self.threshold2)] = self.val2
   return self.output
end

function SaturatedLU:updateGradInput(input, gradOutput)
   self.gradInput = gradOutput:clone()
   self.gradInput[torch.lt(input, self.threshold)] = 0
   self.gradInput[torch.gt(input, self.threshold2)] = 0
   return self.gradInput
end

return SaturatedLU
