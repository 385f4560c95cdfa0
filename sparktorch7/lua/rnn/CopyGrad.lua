-- nn.CopyGrad: the identity in the forward pass (it copies gradients in
-- training, which sparktorch7 does not run).
local schema = require('nn.schema')
local CopyGrad, parent = torch.class('nn.CopyGrad', 'nn.Identity')

schema.inherited(CopyGrad, "nn.Identity's (it copies the gradient instead of passing it)")

return CopyGrad
