-- nn.Max: the largest value of the input over dimension, which is removed
-- (kept, of size 1, for a 1D input).
local schema = require('nn.schema')
local Max, parent = torch.class('nn.Max', 'nn.Module')

schema.declare(Max, {
   {'dimension', 'int'}, {'nInputDims', 'int?'},
})

require('nn.extremum')(Max, parent, 'nn.Max', true)

return Max
