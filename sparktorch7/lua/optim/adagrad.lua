-- optim.adagrad: Torch7's AdaGrad. Each element's step is the learning rate
-- (decayed as lr / (1 + n * learningRateDecay)) over the root of the sum of
-- its squared gradients so far (+ 1e-10). State: evalCounter, paramVariance
-- (that sum) and paramStd (its root, + 1e-10).
local checks = require('optim.checks')

function optim.adagrad(opfunc, x, config, state)
   config = config or {}
   state = state or config
   local lr = config.learningRate or 1e-3
   local lrd = config.learningRateDecay or 0
   local wd = config.weightDecay or 0
   state.evalCounter = state.evalCounter or 0
   local fx, dfdx = checks.evaluate('adagrad', opfunc, x)
   if wd ~= 0 then
      dfdx:add(wd, x)
   end
   local clr = lr / (1 + state.evalCounter * lrd)
   if not state.paramVariance then
      state.paramVariance = x.new():resizeAs(dfdx):zero()
      state.paramStd = x.new():resizeAs(dfdx)
   end
   state.paramVariance:addcmul(1, dfdx, dfdx)
   state.paramStd:resizeAs(state.paramVariance):copy(state.paramVariance):sqrt():add(1e-10)
   x:addcdiv(-clr, dfdx, state.paramStd)
   state.evalCounter = state.evalCounter + 1
   return x, {fx}
end

return optim.adagrad
