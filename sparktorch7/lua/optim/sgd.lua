-- optim.sgd: Torch7's stochastic gradient descent.
local checks = require('optim.checks')

-- Stochastic gradient descent with weight decay, momentum (dampening,
-- Nesterov) and a learning rate decaying as lr / (1 + n * learningRateDecay).
function optim.sgd(opfunc, x, config, state)
   config = config or {}
   state = state or config
   local lr = config.learningRate or 1e-3
   local lrd = config.learningRateDecay or 0
   local wd = config.weightDecay or 0
   local mom = config.momentum or 0
   local damp = config.dampening or mom
   local nesterov = config.nesterov or false
   state.evalCounter = state.evalCounter or 0
   if nesterov and (mom <= 0 or damp ~= 0) then
      error('<optim.sgd> Nesterov momentum needs a momentum and zero dampening', 2)
   end
   local fx, dfdx = checks.evaluate('sgd', opfunc, x)
   if wd ~= 0 then
      dfdx:add(wd, x)
   end
   if mom ~= 0 then
      if not state.dfdx then
         state.dfdx = dfdx.new():resizeAs(dfdx):copy(dfdx)
      else
         state.dfdx:mul(mom):add(1 - damp, dfdx)
      end
      if nesterov then
         dfdx:add(mom, state.dfdx)
      else
         dfdx = state.dfdx
      end
   end
   local clr = lr / (1 + state.evalCounter * lrd)
   x:add(-clr, dfdx)
   state.evalCounter = state.evalCounter + 1
   return x, {fx}
end

return optim.sgd
