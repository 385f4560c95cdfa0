-- cunn for sparktorch7: no GPU kernels, only what scripts and files written
-- for cunn need (nn, cutorch, nn.DataParallelTable from the nn package).
require('nn')
require('cutorch')

cunn = cunn or {}
return cunn
