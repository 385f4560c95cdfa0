-- nn.CopyGrad: the identity whose gradInput is a copy of gradOutput (not gradOutput itself,
-- so a module may add to it: nn.NormStabilizer does).
local schema = require('nn.schema')
local CopyGrad, parent = torch.class('nn.CopyGrad', 'nn.Identity')

schema.inherited(CopyGrad, "nn.Identity's (it copies the gradient instead of passing it)")

function CopyGrad:updateGradInput(input, gradOutput)
   self.gradInput = rnn.recursiveCopy(self.gradInput ~= gradOutput and self.gradInput or nil, gradOutput)
   return self.gradInput
end

return CopyGrad
