-- TensorMath: Torch7's math on every tensor class, in both forms torch.f([res,] ...) and t:f(...).
-- Required by torch/init.lua after the tensor core; each part below is a helper module.
require 'torch.math_util'
require 'torch.math_pointwise'
require 'torch.math_reduce'
require 'torch.math_blas'
require 'torch.random'
require 'torch.math_construct'
require 'torch.math_index'
require 'torch.math_ops'
require 'torch.lapack'
require 'torch.conv'
