-- nn.Min: the smallest value of the input over dimension, which is removed
-- (kept, of size 1, for a 1D input).
local Min, parent = torch.class('nn.Min', 'nn.Module')

require('nn.extremum')(Min, parent, 'nn.Min', false)

return Min
