-- optim.adam: Torch7's Adam.
local checks = require('optim.checks')

-- Adam (Kingma and Ba): bias-corrected moving averages of the gradient and
-- of its square.
function optim.adam(opfunc, x, config, state)
   config = config or {}
   state = state or config
   local lr = config.learningRate or 1e-3
   local beta1 = config.beta1 or 0.9
   local beta2 = config.beta2 or 0.999
   local eps = config.epsilon or 1e-8
   local wd = config.weightDecay or 0
   local fx, dfdx = checks.evaluate('adam', opfunc, x)
   if wd ~= 0 then
      dfdx:add(wd, x)
   end
   state.t = state.t or 0
   state.m = state.m or x.new():resizeAs(dfdx):zero()
   state.v = state.v or x.new():resizeAs(dfdx):zero()
   state.denom = state.denom or x.new():resizeAs(dfdx):zero()
   state.t = state.t + 1
   state.m:mul(beta1):add(1 - beta1, dfdx)
   state.v:mul(beta2):addcmul(1 - beta2, dfdx, dfdx)
   state.denom:copy(state.v):sqrt():add(eps)
   local bc1 = 1 - beta1 ^ state.t
   local bc2 = 1 - beta2 ^ state.t
   local step = lr * math.sqrt(bc2) / bc1
   x:addcdiv(-step, state.m, state.denom)
   return x, {fx}
end

return optim.adam
