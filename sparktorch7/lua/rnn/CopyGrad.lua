-- nn.CopyGrad: the identity in the forward pass (it copies gradients in
-- training, which sparktorch7 does not run).
local CopyGrad, parent = torch.class('nn.CopyGrad', 'nn.Identity')

return CopyGrad
