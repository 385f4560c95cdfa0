-- nn.Min: the smallest value of the input over dimension, which is removed
-- (kept, of size 1, for a 1D input).
local schema = require('nn.schema')
local Min, parent = torch.class('nn.Min', 'nn.Module')

schema.declare(Min, {
   {'dimension', 'int'}, {'nInputDims', 'int?'},
})

require('nn.extremum')(Min, parent, 'nn.Min', false)

return Min
