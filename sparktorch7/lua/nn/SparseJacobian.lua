-- nn.SparseJacobian: nn.Jacobian's checks for modules whose input is sparse, a table of
-- (index, value) rows (nn.SparseLinear's nnz x 2 layout). Only the values (column 2) are
-- inputs: they are what is perturbed and what gradInput's column 2 is checked against;
-- the parameter checks are nn.Jacobian's.
local Jacobian = nn.Jacobian
local SparseJacobian = {}

-- by backpropagation: one row per value (or per element of param), one column per output
function SparseJacobian.backward(module, input, param, dparam)
   if param ~= nil then
      return Jacobian.backward(module, input, param, dparam)
   end
   module:forward(input)
   local dout = module.output.new():resizeAs(module.output)
   local flat = dout:view(dout:nElement())
   local jacobian = torch.Tensor(input:size(1), dout:nElement()):zero()
   for i = 1, flat:nElement() do
      dout:zero()
      flat[i] = 1
      module:zeroGradParameters()
      local din = module:updateGradInput(input, dout)
      module:accGradParameters(input, dout)
      jacobian:select(2, i):copy(din:select(2, 2))
   end
   return jacobian
end

-- by central differences of forward, each value (or element of param) moved by +-1e-6
function SparseJacobian.forward(module, input, param, perturbation)
   return Jacobian.forward(module, input, param or input:select(2, 2), perturbation)
end

SparseJacobian.backwardUpdate = Jacobian.backwardUpdate
SparseJacobian.forwardUpdate = Jacobian.forwardUpdate
SparseJacobian.testIO = Jacobian.testIO
SparseJacobian.testAllUpdate = Jacobian.testAllUpdate

local function randomValues(input, minval, maxval)
   minval, maxval = minval or -2, maxval or 2
   input:select(2, 2):copy(torch.rand(input:size(1)):mul(maxval - minval):add(minval))
end

local function randomFill(t, minval, maxval)
   minval, maxval = minval or -2, maxval or 2
   t:copy(torch.rand(t:nElement()):mul(maxval - minval):add(minval))
end

function SparseJacobian.testJacobian(module, input, minval, maxval)
   randomValues(input, minval, maxval)
   local jf = SparseJacobian.forward(module, input)
   local jb = SparseJacobian.backward(module, input)
   return (jf - jb):abs():max()
end

function SparseJacobian.testJacobianParameters(module, input, param, dparam, minval, maxval)
   randomValues(input, minval, maxval)
   randomFill(param, minval, maxval)
   local jb = SparseJacobian.backward(module, input, param, dparam)
   local jf = SparseJacobian.forward(module, input, param)
   return (jf - jb):abs():max()
end

function SparseJacobian.testJacobianUpdateParameters(module, input, param, minval, maxval)
   randomValues(input, minval, maxval)
   randomFill(param, minval, maxval)
   local pb = SparseJacobian.backwardUpdate(module, input, param)
   local pf = SparseJacobian.forwardUpdate(module, input, param)
   return (pf - pb):abs():max()
end

nn.SparseJacobian = SparseJacobian
return SparseJacobian
