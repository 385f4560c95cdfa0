-- optim.rmsprop: Torch7's RMSprop. m, a leaky mean of the squared gradients
-- (m <- alpha m + (1 - alpha) g^2, starting at initialMean), divides each
-- step: x <- x - lr g / (sqrt(m) + epsilon). State: m and tmp (sqrt(m) + epsilon).
local checks = require('optim.checks')

function optim.rmsprop(opfunc, x, config, state)
   config = config or {}
   state = state or config
   local lr = config.learningRate or 1e-2
   local alpha = config.alpha or 0.99
   local epsilon = config.epsilon or 1e-8
   local wd = config.weightDecay or 0
   local mfill = config.initialMean or 0
   local fx, dfdx = checks.evaluate('rmsprop', opfunc, x)
   if wd ~= 0 then
      dfdx:add(wd, x)
   end
   if not state.m then
      state.m = x.new():resizeAs(dfdx):fill(mfill)
      state.tmp = x.new():resizeAs(dfdx)
   end
   state.m:mul(alpha):addcmul(1 - alpha, dfdx, dfdx)
   state.tmp:sqrt(state.m):add(epsilon)
   x:addcdiv(-lr, dfdx, state.tmp)
   return x, {fx}
end

return optim.rmsprop
