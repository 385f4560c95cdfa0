-- optim: Torch7's optimisation package. Every method has the signature
-- optim.name(opfunc, x, config, state): opfunc(x) gives f(x) and df/dx, x is
-- updated in place, state (defaulting to config) keeps what persists between
-- calls; it returns x and a table of the f values it evaluated.
require('torch')

local optim = {}

rawset(_G, 'optim', optim)   -- Torch7's optim is a global, as its packages were

-- one file per method, each defining optim.<name> (as Torch7's files do)
require('optim.sgd')
require('optim.adam')
require('optim.adagrad')
require('optim.rmsprop')
require('optim.polyinterp')
require('optim.lswolfe')
require('optim.lbfgs')
require('optim.cg')

setmetatable(optim, {__index = function(_, k)
   error(string.format('<optim> optim.%s is not implemented in sparktorch7 (sgd, adam, adagrad, '
                       .. 'rmsprop, lbfgs, cg, lswolfe and polyinterp are)', tostring(k)), 2)
end})

return optim
