-- nn.Max: the largest value of the input over dimension, which is removed
-- (kept, of size 1, for a 1D input).
local Max, parent = torch.class('nn.Max', 'nn.Module')

require('nn.extremum')(Max, parent, 'nn.Max', true)

return Max
