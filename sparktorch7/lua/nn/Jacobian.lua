-- nn.Jacobian: Torch7's gradient checks. A module's Jacobian is measured twice,
-- by central finite differences of forward and by backpropagating each unit
-- gradOutput; the test functions return the largest difference.
local Jacobian = {}

-- The Jacobian d(output)/d(param) (param defaults to the input) by
-- backpropagation: one row per element of param, one column per output.
function Jacobian.backward(module, input, param, dparam)
   local withParam = param ~= nil
   param = param or input
   module:forward(input)
   local dout = module.output.new():resizeAs(module.output)
   local flatDout = dout:view(dout:nElement())
   local jacobian = torch.Tensor(param:nElement(), dout:nElement()):zero()
   for i = 1, flatDout:nElement() do
      dout:zero()
      flatDout[i] = 1
      module:zeroGradParameters()
      local din = module:updateGradInput(input, dout)
      module:accGradParameters(input, dout)
      local column = withParam and dparam or din
      jacobian:select(2, i):copy(column:contiguous():view(column:nElement()))
   end
   return jacobian
end

-- The parameters after one accUpdateGradParameters step (lr 1) for each unit
-- gradOutput, the parameters restored between steps.
function Jacobian.backwardUpdate(module, input, param)
   module:forward(input)
   local dout = module.output.new():resizeAs(module.output)
   local flatDout = dout:view(dout:nElement())
   local jacobian = torch.Tensor(param:nElement(), dout:nElement()):zero()
   local params = module:parameters()
   local saved = {}
   for j = 1, #params do saved[j] = params[j]:clone() end
   for i = 1, flatDout:nElement() do
      for j = 1, #params do params[j]:copy(saved[j]) end
      dout:zero()
      flatDout[i] = 1
      module:updateGradInput(input, dout)
      module:accUpdateGradParameters(input, dout, 1)
      jacobian:select(2, i):copy(param:contiguous():view(param:nElement()))
   end
   for j = 1, #params do params[j]:copy(saved[j]) end
   return jacobian
end

-- The same Jacobian by central differences of forward, each element of param
-- moved by +-perturbation (1e-6 by default) in place.
function Jacobian.forward(module, input, param, perturbation)
   param = param or input
   perturbation = perturbation or 1e-6
   -- a vector is perturbed in place whatever its stride (nn.SparseJacobian's values column)
   if param:dim() ~= 1 and not param:isContiguous() then
      error('<nn.Jacobian> the perturbed tensor must be contiguous', 2)
   end
   local flat = param:dim() == 1 and param or param:view(param:nElement())
   local nOut = module:forward(input):nElement()
   local jacobian = torch.Tensor(param:nElement(), nOut)
   local before, after = torch.Tensor(nOut), torch.Tensor(nOut)
   for i = 1, flat:nElement() do
      local orig = flat[i]
      flat[i] = orig - perturbation
      before:copy(module:forward(input))
      flat[i] = orig + perturbation
      after:copy(module:forward(input))
      flat[i] = orig
      after:add(-1, before):div(2 * perturbation)
      jacobian:select(1, i):copy(after)
   end
   return jacobian
end

-- What one step of learning rate 1 would leave each parameter at: param - J.
function Jacobian.forwardUpdate(module, input, param, perturbation)
   local jacobian = Jacobian.forward(module, input, param, perturbation)
   local flat = param:contiguous():view(param:nElement())
   for i = 1, flat:nElement() do
      jacobian:select(1, i):mul(-1):add(flat[i])
   end
   return jacobian
end

local function randomFill(t, minval, maxval)
   minval = minval or -2
   maxval = maxval or 2
   t:copy(torch.rand(t:nElement()):mul(maxval - minval):add(minval))
end

function Jacobian.testJacobian(module, input, minval, maxval, perturbation)
   randomFill(input, minval, maxval)
   local jf = Jacobian.forward(module, input, input, perturbation)
   local jb = Jacobian.backward(module, input)
   return (jf - jb):abs():max()
end

function Jacobian.testJacobianParameters(module, input, param, dparam, minval, maxval, perturbation)
   randomFill(input, minval, maxval)
   randomFill(param, minval, maxval)
   local jb = Jacobian.backward(module, input, param, dparam)
   local jf = Jacobian.forward(module, input, param, perturbation)
   return (jf - jb):abs():max()
end

function Jacobian.testJacobianUpdateParameters(module, input, param, minval, maxval, perturbation)
   randomFill(input, minval, maxval)
   randomFill(param, minval, maxval)
   local pb = Jacobian.backwardUpdate(module, input, param)
   local pf = Jacobian.forwardUpdate(module, input, param, perturbation)
   return (pf - pb):abs():max()
end

-- A module written to a file and read back computes the same output and
-- gradInput: returns the largest difference of each.
function Jacobian.testIO(module, input, minval, maxval)
   minval = minval or -2
   maxval = maxval or 2
   local inputCopy = input:clone()
   module:forward(input)
   local go = module.output:clone():copy(torch.rand(module.output:nElement()):mul(maxval - minval):add(minval))
   local goCopy = go:clone()
   module:zeroGradParameters()
   module:updateGradInput(input, go)
   module:accGradParameters(input, go)
   local fo, bo = module.output:clone(), module.gradInput:clone()
   if module:clearState() ~= module then
      error('<nn.Jacobian> clearState did not return self', 2)
   end
   local f = torch.MemoryFile('rw'):binary()
   f:writeObject(module)
   f:seek(1)
   local m = f:readObject()
   f:close()
   m:forward(inputCopy)
   m:zeroGradParameters()
   m:updateGradInput(inputCopy, goCopy)
   m:accGradParameters(inputCopy, goCopy)
   local errf = (fo - m.output):abs():max()
   local errb = bo:nElement() == 0 and 0 or (bo - m.gradInput):abs():max()
   return errf, errb
end

-- Four ways of taking one SGD step (learning rate drawn in [0.1, 1]) on the parameter
-- self[weight] must agree: accGradParameters + updateParameters, accUpdateGradParameters,
-- and both again on two clones sharing the parameter (both backpropagate before either
-- steps, and the step counts twice).
-- Returns the norm of each disagreement, by name.
function Jacobian.testAllUpdate(module, input, weight, gradWeight)
   local lr = torch.uniform(0.1, 1)
   local errors = {}
   local start = module[weight]:clone()

   local acc = module:clone()
   acc:forward(input)
   local gradOutput = torch.rand(acc.output:size())
   acc:zeroGradParameters()
   acc:updateGradInput(input, gradOutput)
   acc:accGradParameters(input, gradOutput)
   acc:updateParameters(lr)
   local step = acc[gradWeight]:clone():mul(lr)
   errors['accGradParameters'] = (start - step - acc[weight]):norm()

   local direct = module:clone()
   direct:forward(input)
   direct:updateGradInput(input, gradOutput)
   direct:accUpdateGradParameters(input, gradOutput, lr)
   errors['accUpdateGradParameters'] = (direct[weight] - acc[weight]):norm()

   local twice = start - step * 2
   local a, b = module:clone(), module:clone()
   b:share(a, weight)
   for _, m in ipairs({a, b}) do m:forward(input) end
   for _, m in ipairs({a, b}) do m:zeroGradParameters() end
   for _, m in ipairs({a, b}) do m:updateGradInput(input, gradOutput) end
   for _, m in ipairs({a, b}) do m:accGradParameters(input, gradOutput) end
   for _, m in ipairs({a, b}) do m:updateParameters(lr) end
   errors['accGradParameters [shared]'] = (twice - a[weight]):norm() + (twice - b[weight]):norm()

   a, b = module:clone(), module:clone()
   b:share(a, weight)
   for _, m in ipairs({a, b}) do m:forward(input) end
   for _, m in ipairs({a, b}) do m:updateGradInput(input, gradOutput) end
   for _, m in ipairs({a, b}) do m:accUpdateGradParameters(input, gradOutput, lr) end
   errors['accUpdateGradParameters [shared]'] = (twice - a[weight]):norm() + (twice - b[weight]):norm()
   return errors
end

-- The diagonal of the Hessian of F = sum(output^2)/2 by the diag-Hessian pass of nn.hessian
-- (d2F/doutput2 = 1, so a tensor of ones goes down): module[diagHessianParamName].
function Jacobian.backwardDiagHessian(module, input, diagHessianParamName)
   module:forward(input)
   local ones = module.output.new():resizeAs(module.output):fill(1)
   if module.diagHessianWeight then module.diagHessianWeight:zero() end
   if module.diagHessianBias then module.diagHessianBias:zero() end
   module:updateDiagHessianInput(input, ones)
   module:accDiagHessianParameters(input, ones)
   return module[diagHessianParamName]
end

-- The same diagonal from first derivatives, for a module linear in its input and weights
-- (d2y/dx2 = 0): d2F/dx_i2 = sum over outputs k of (dy_k/dx_i)^2, one backward per output.
function Jacobian.linearModuleDiagHessian(module, input, gradParamName)
   module:forward(input)
   local gradOutput = module.output.new():resizeAs(module.output)
   local flat = gradOutput:view(gradOutput:nElement())
   local diag
   for k = 1, flat:nElement() do
      flat:zero()
      flat[k] = 1
      module:zeroGradParameters()
      module:updateGradInput(input, gradOutput)
      module:accGradParameters(input, gradOutput)
      local g = module[gradParamName]
      diag = diag or g.new():resize(g:nElement()):zero()
      diag:addcmul(g:contiguous():view(g:nElement()), g:contiguous():view(g:nElement()))
   end
   return diag
end

-- Both diagonals for input drawn in [minval, maxval] (default [-2, 2]): the largest difference.
function Jacobian.testDiagHessian(module, input, gradParamName, diagHessianParamName, minval, maxval)
   minval, maxval = minval or -2, maxval or 2
   input:copy(torch.rand(input:nElement()):mul(maxval - minval):add(minval))
   module:initDiagHessianParameters()
   local byPass = Jacobian.backwardDiagHessian(module, input, diagHessianParamName)
   byPass = byPass:contiguous():view(byPass:nElement()):clone()
   local byGradients = Jacobian.linearModuleDiagHessian(module, input, gradParamName)
   return (byPass - byGradients):abs():max()
end

function Jacobian.testDiagHessianInput(module, input, minval, maxval)
   return Jacobian.testDiagHessian(module, input, 'gradInput', 'diagHessianInput', minval, maxval)
end

function Jacobian.testDiagHessianWeight(module, input, minval, maxval)
   return Jacobian.testDiagHessian(module, input, 'gradWeight', 'diagHessianWeight', minval, maxval)
end

function Jacobian.testDiagHessianBias(module, input, minval, maxval)
   return Jacobian.testDiagHessian(module, input, 'gradBias', 'diagHessianBias', minval, maxval)
end

nn.Jacobian = Jacobian
return Jacobian
