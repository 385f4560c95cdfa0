-- nn.PrintSize(prefix): prints the size of what passes through (the input
-- forward, gradOutput backward); the output is the input, gradInput gradOutput.
local schema = require('nn.schema')
local PrintSize, parent = torch.class('nn.PrintSize', 'nn.Module')

schema.declare(PrintSize, {
   {'prefix', 'string?'},
})

function PrintSize:__init(prefix)
   parent.__init(self)
   self.prefix = prefix or 'PrintSize'
end

local function describe(input)
   if torch.isTensor(input) then
      return input:size()
   elseif input == nil then
      return 'missing size'
   end
   return input
end

function PrintSize:updateOutput(input)
   self.output = input
   print(self.prefix .. ':input\n', describe(input))
   return self.output
end

-- prints the size of gradOutput, which it passes on as gradInput
function PrintSize:updateGradInput(input, gradOutput)
   print(self.prefix .. ':gradOutput\n', describe(gradOutput))
   self.gradInput = gradOutput
   return self.gradInput
end

return PrintSize
