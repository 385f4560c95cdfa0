-- optim: Torch7's optimisation package. Every method has the signature
-- optim.name(opfunc, x, config, state): opfunc(x) gives f(x) and df/dx, x is
-- updated in place, state (defaulting to config) keeps what persists between
-- calls; it returns x and a table of the f values it evaluated.
local optim = {}

rawset(_G, 'optim', optim)   -- Torch7's optim is a global, as its packages were

local function evaluate(name, opfunc, x)
   if type(opfunc) ~= 'function' then
      error(string.format('<optim.%s> opfunc must be a function, not a %s', name, type(opfunc)), 3)
   end
   if not torch.isTensor(x) then
      error(string.format('<optim.%s> x must be a tensor, not a %s', name, torch.type(x)), 3)
   end
   local fx, dfdx = opfunc(x)
   if not torch.isTensor(dfdx) or dfdx:nElement() ~= x:nElement() then
      error(string.format('<optim.%s> opfunc must return f(x) and a gradient of %d elements',
                          name, x:nElement()), 3)
   end
   return fx, dfdx
end

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
   local fx, dfdx = evaluate('sgd', opfunc, x)
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
   local fx, dfdx = evaluate('adam', opfunc, x)
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

setmetatable(optim, {__index = function(_, k)
   error(string.format('<optim> optim.%s is not implemented in sparktorch7 (sgd and adam are)',
                       tostring(k)), 2)
end})

return optim
