-- optim: Torch7's optimisation package is for training; sparktorch7 runs inference only.
-- Scoring scripts that `require 'optim'` out of habit load; any use of it raises an error.
local optim = {}

rawset(_G, 'optim', optim)   -- Torch7's optim is a global, as its packages were

setmetatable(optim, {__index = function(_, k)
   error(string.format('<optim> sparktorch7 runs inference only: optim.%s is not supported',
                       tostring(k)), 2)
end})

return optim
