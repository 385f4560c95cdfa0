-- torchx (nicholas-leonard/torchx), the part rnn's models need: torch.AliasMultinomial,
-- which torch/rnn's nn.NCEModule keeps for its noise samples. `require 'torchx'` as in a
-- Torch7 install; torch.load requires it for a file holding a torch.AliasMultinomial.
require 'torch'
local torchx = {}
require('torchx.AliasMultinomial')
rawset(_G, 'torchx', torchx)
return torchx
