-- nn.LinearNoBias: nn.Linear without the bias term (rnn's gates on the
-- previous output are these).
local schema = require('nn.schema')
local LinearNoBias, parent = torch.class('nn.LinearNoBias', 'nn.Linear')

-- an nn.Linear without bias; some files hold an empty one (backCompatibility drops it)
schema.declare(LinearNoBias, {
   {'bias', 'tensor?', sizes = {{}, {0}, {'outputSize'}}},
})

function LinearNoBias:__init(inputSize, outputSize)
   parent.__init(self, inputSize, outputSize, false)
end

function LinearNoBias:backCompatibility(version)
   parent.backCompatibility(self, version)
   -- files hold no bias; some hold an empty one
   if torch.isTensor(self.bias) and self.bias:nElement() == 0 then
      self.bias = nil
   end
end

return LinearNoBias
