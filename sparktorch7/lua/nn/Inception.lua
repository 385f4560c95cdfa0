-- nn.Inception: the GoogLeNet block, a decorator around the nn.DepthConcat of
-- its towers. Files holding one run as they are (forward goes through the
-- stored block); building a new block needs its config and the spatial modules.
local schema = require('nn.schema')
local Inception, parent = torch.class('nn.Inception', 'nn.Decorator')

schema.parameterless(Inception, 'an nn.Decorator around the Sequential it builds')

function Inception:__init(config)
   if torch.isTypeOf(config, 'nn.Module') then
      parent.__init(self, config)
      return
   end
   error('<nn.Inception> building a new block is not supported: load one saved by Torch7, '
         .. 'or pass the block module to wrap', 2)
end

return Inception
